-- Lookups of a user's events go through a 64-bit hash of the user id, as those by aggregate and
-- correlation id already do (20261123173000_hashed_lookup_indexes, which explains the hash).
--
-- User ids are publishers' text and arrive in no order, so every insert lands on a random leaf
-- page of this index. With millions of events stored and a checkpoint every few seconds at max
-- rate, most of those pages are logged whole (a full-page image) once per checkpoint. An entry of
-- (hash, stored_at) is about two thirds the size of (user_id, stored_at), so the index has fewer
-- pages to touch and to log. Queries compare the hash, then the id itself. Events without a user
-- (service events) are not indexed at all.
CREATE INDEX "domain_events_user_key_idx" ON "domain_events" ((hashtextextended("user_id", 0)), "stored_at")
  WHERE "user_id" IS NOT NULL;
DROP INDEX "domain_events_user_id_stored_at_idx";
