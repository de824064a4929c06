-- Claiming a delivery (PENDING or RETRYING → SENDING) wrote a new entry into every index of
-- notification_deliveries: the in-flight index was keyed and filtered on status, so any status
-- change made the update non-HOT. Three deliveries per event, four indexes each.
--
-- The in-flight index now hangs on a generated flag that a claim leaves unchanged (in flight
-- before, in flight after) and is keyed on the due time the poller orders by, which a claim
-- does not touch either. A claim then changes no indexed column and, with room left on the page
-- by the fillfactor, stays on the page as a heap-only tuple. Settling a delivery still leaves
-- the index (the flag turns false), as it must.
--
-- Adding a stored generated column rewrites the table under an exclusive lock: on a large
-- production table, run this in a maintenance window (or add the flag as a trigger-maintained
-- column and build the index CONCURRENTLY instead).
ALTER TABLE "notification_deliveries"
  ADD COLUMN "in_flight" boolean GENERATED ALWAYS AS ("status" IN ('PENDING', 'SENDING', 'RETRYING', 'DEFERRED')) STORED;
DROP INDEX "notification_deliveries_in_flight_idx";
CREATE INDEX "notification_deliveries_in_flight_idx" ON "notification_deliveries" ((coalesce("next_attempt_at", "created_at")))
  WHERE "in_flight";
ALTER TABLE "notification_deliveries" SET (fillfactor = 75);
