-- Completing a notification sets completed_at and outcome. notifications_incomplete_idx (on
-- created_at WHERE completed_at IS NULL) made every such update non-HOT, so each one wrote a
-- new entry into all five indexes, for an index no query reads any more (completion looks its
-- notifications up by id). Without it the update touches no indexed column and, with room
-- left on the page by the fillfactor, stays on the page as a heap-only tuple.
DROP INDEX "notifications_incomplete_idx";
ALTER TABLE "notifications" SET (fillfactor = 80);
