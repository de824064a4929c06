-- Processing state leaves the event log for a small outbox table: domain_events becomes
-- insert-only. Before, marking an event processed updated its row, and since processed_at
-- was in the unprocessed partial index no update could be HOT: every event was written to
-- the heap and to each of the seven indexes twice, most of them at random pages of large
-- indexes, and left a dead tuple behind in the biggest table.
--
-- As in the stats_rollup migration, the work is one statement (Prisma's adapter migration
-- runner splits at every semicolon and runs the pieces outside a transaction): the script
-- goes to a throwaway helper that turns each U+204F back into a semicolon and runs it, so a
-- failure leaves nothing half-moved. No comment outside the script may contain a semicolon.
CREATE OR REPLACE FUNCTION event_outbox_install(script text) RETURNS void
LANGUAGE plpgsql AS E'BEGIN EXECUTE replace(script, U&''\\204F'', chr(59))\073 END';

SELECT event_outbox_install($install$

CREATE TABLE "event_outbox" (
    "event_id" UUID NOT NULL,
    "stored_at" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "retry_at" TIMESTAMPTZ(3),
    "quarantined_at" TIMESTAMPTZ(3),
    CONSTRAINT "event_outbox_pkey" PRIMARY KEY ("event_id")
)⁏

ALTER TABLE "event_outbox" ADD CONSTRAINT "event_outbox_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "domain_events"("id") ON DELETE CASCADE ON UPDATE CASCADE⁏

-- The sweeper's order. Quarantined events wait for an operator, not for the sweeper.
CREATE INDEX "event_outbox_due_idx" ON "event_outbox" ("stored_at") WHERE "quarantined_at" IS NULL⁏

-- What the old columns said: unprocessed events are owed a run, and a processed event that
-- still carries its error is one the handlers gave up on (success clears the error).
INSERT INTO "event_outbox" (event_id, stored_at, attempts, last_error, retry_at, quarantined_at)
SELECT id, stored_at, process_attempts, process_error, retry_at, processed_at
  FROM "domain_events"
 WHERE processed_at IS NULL OR process_error IS NOT NULL⁏

DROP INDEX "domain_events_unprocessed_idx"⁏

ALTER TABLE "domain_events" DROP COLUMN "process_attempts",
DROP COLUMN "process_error",
DROP COLUMN "processed_at",
DROP COLUMN "retry_at"⁏

$install$);

DROP FUNCTION event_outbox_install(text);
