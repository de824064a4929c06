-- Lookups by aggregate id and by correlation id go through a 64-bit hash of the id.
--
-- Both ids are text chosen by publishers (a transaction id, a request id), so their index
-- entries land on random pages. With millions of events stored, those indexes are larger than
-- shared_buffers and nearly every insert after a checkpoint logs a full-page image of the page it
-- touches: with 5M events the WAL per event doubled. An entry of the hash is 16-24 bytes against
-- 50-70 for the text, so the indexes have a third of the pages and a checkpoint interval
-- touches, and logs, correspondingly fewer of them. Queries compare the hash and then the id
-- itself, so a collision costs a heap visit, never a wrong answer.
--
-- hashtextextended is the function hash partitioning relies on, so its values are stable across
-- PostgreSQL versions. Btree (not a hash index) because one correlation id may be shared by a
-- whole balance-sync run: btree deduplicates equal keys, a hash index would chain them.
--
-- One statement through a throwaway helper, as in the stats_rollup migration, so the swap is
-- atomic. No comment outside the script may contain a semicolon.
CREATE OR REPLACE FUNCTION hashed_lookup_install(script text) RETURNS void
LANGUAGE plpgsql AS E'BEGIN EXECUTE replace(script, U&''\\204F'', chr(59))\073 END';

SELECT hashed_lookup_install($install$

DROP INDEX "domain_events_aggregate_type_aggregate_id_stored_at_idx"⁏
DROP INDEX "domain_events_correlation_id_idx"⁏
CREATE INDEX "domain_events_aggregate_key_idx" ON "domain_events" ((hashtextextended("aggregate_id", 0)), "stored_at")⁏
CREATE INDEX "domain_events_correlation_key_idx" ON "domain_events" ((hashtextextended("correlation_id", 0))) WHERE "correlation_id" IS NOT NULL⁏

$install$);

DROP FUNCTION hashed_lookup_install(text);
