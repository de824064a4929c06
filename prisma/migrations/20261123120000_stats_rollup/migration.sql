-- Prisma's driver-adapter migration runner (@prisma/adapter-pg executeScript) splits a script
-- at every semicolon, even inside quoted function bodies, and runs the pieces outside any
-- transaction. So the work is one statement: the script below goes to a throwaway helper that
-- turns each U+204F (the reversed semicolon standing in for one) back into a semicolon and runs
-- it, in one transaction: a failure leaves nothing half-created. No comment outside the
-- script may contain a semicolon.
CREATE OR REPLACE FUNCTION stats_rollup_install(script text) RETURNS void
LANGUAGE plpgsql AS E'BEGIN EXECUTE replace(script, U&''\\204F'', chr(59))\073 END';

SELECT stats_rollup_install($install$

-- CreateTable
CREATE TABLE "stats_hourly" (
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "kind" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "n" BIGINT NOT NULL,

    CONSTRAINT "stats_hourly_pkey" PRIMARY KEY ("hour","kind","channel","event_type","category")
)⁏

-- CreateTable
CREATE TABLE "stats_hourly_deltas" (
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "kind" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "n" BIGINT NOT NULL
)⁏

-- Hand-written (Prisma ignores triggers and functions): the rollup behind GET /v1/stats.
--
-- Every statement that inserts, updates or deletes deliveries, notifications or events adds
-- its net change per (hour, kind, channel, event_type, category) to stats_hourly_deltas, so
-- no code path can forget to count, cascaded deletes included. Triggers are per statement
-- with transition tables: a 500-row fan-out costs one small INSERT, not 500. Deliveries are
-- counted by stats bucket rather than raw status, so the hot PENDING -> SENDING claim nets to
-- zero and writes nothing. Deltas are append-only (no key to lock), and the scheduler folds them
-- into stats_hourly (lib/notifications/stats-rollup.ts). Hours are UTC whatever the session's
-- TimeZone, so writers in different sessions always agree on a bucket.

ALTER TABLE "stats_hourly" ADD CONSTRAINT "stats_hourly_kind_check"
  CHECK ("kind" IN ('delivery', 'notification', 'event'))⁏

-- The buckets of lib/notifications/stats.ts (StatusCounts): anything not finished is pending.
CREATE FUNCTION stats_delivery_category(status text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE status
           WHEN 'SENT' THEN 'sent' WHEN 'DELIVERED' THEN 'sent'
           WHEN 'FAILED' THEN 'failed'
           WHEN 'DEAD_LETTERED' THEN 'dead_lettered'
           WHEN 'SKIPPED' THEN 'skipped'
           ELSE 'pending' -- PENDING, SENDING, RETRYING, DEFERRED
         END
$$⁏

-- A statement-level trigger fires even when the statement touched no row (an empty claim
-- poll every second per notifier): the EXISTS probe answers that before any aggregation.
CREATE FUNCTION stats_rollup_deliveries() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NOT EXISTS (SELECT FROM stats_new) THEN RETURN NULL⁏ END IF⁏
    INSERT INTO stats_hourly_deltas (hour, kind, channel, event_type, category, n)
    SELECT date_trunc('hour', created_at, 'UTC'), 'delivery', channel, event_type, stats_delivery_category(status), count(*)
      FROM stats_new
     GROUP BY 1, 3, 4, 5⁏
  ELSIF TG_OP = 'DELETE' THEN
    IF NOT EXISTS (SELECT FROM stats_old) THEN RETURN NULL⁏ END IF⁏
    INSERT INTO stats_hourly_deltas (hour, kind, channel, event_type, category, n)
    SELECT date_trunc('hour', created_at, 'UTC'), 'delivery', channel, event_type, stats_delivery_category(status), -count(*)
      FROM stats_old
     GROUP BY 1, 3, 4, 5⁏
  ELSE
    IF NOT EXISTS (SELECT FROM stats_new) THEN RETURN NULL⁏ END IF⁏
    INSERT INTO stats_hourly_deltas (hour, kind, channel, event_type, category, n)
    SELECT hour, 'delivery', channel, event_type, category, sum(n)
      FROM (SELECT date_trunc('hour', created_at, 'UTC') AS hour, channel, event_type,
                   stats_delivery_category(status) AS category, 1 AS n
              FROM stats_new
            UNION ALL
            SELECT date_trunc('hour', created_at, 'UTC'), channel, event_type, stats_delivery_category(status), -1
              FROM stats_old) AS change
     GROUP BY hour, channel, event_type, category
    HAVING sum(n) <> 0⁏
  END IF⁏
  RETURN NULL⁏
END
$$⁏

CREATE FUNCTION stats_rollup_notifications() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NOT EXISTS (SELECT FROM stats_new) THEN RETURN NULL⁏ END IF⁏
    INSERT INTO stats_hourly_deltas (hour, kind, channel, event_type, category, n)
    SELECT date_trunc('hour', created_at, 'UTC'), 'notification', '', event_type, '', count(*)
      FROM stats_new
     GROUP BY 1, 4⁏
  ELSE
    IF NOT EXISTS (SELECT FROM stats_old) THEN RETURN NULL⁏ END IF⁏
    INSERT INTO stats_hourly_deltas (hour, kind, channel, event_type, category, n)
    SELECT date_trunc('hour', created_at, 'UTC'), 'notification', '', event_type, '', -count(*)
      FROM stats_old
     GROUP BY 1, 4⁏
  END IF⁏
  RETURN NULL⁏
END
$$⁏

CREATE FUNCTION stats_rollup_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NOT EXISTS (SELECT FROM stats_new) THEN RETURN NULL⁏ END IF⁏
    INSERT INTO stats_hourly_deltas (hour, kind, channel, event_type, category, n)
    SELECT date_trunc('hour', stored_at, 'UTC'), 'event', '', type, '', count(*)
      FROM stats_new
     GROUP BY 1, 4⁏
  ELSE
    IF NOT EXISTS (SELECT FROM stats_old) THEN RETURN NULL⁏ END IF⁏
    INSERT INTO stats_hourly_deltas (hour, kind, channel, event_type, category, n)
    SELECT date_trunc('hour', stored_at, 'UTC'), 'event', '', type, '', -count(*)
      FROM stats_old
     GROUP BY 1, 4⁏
  END IF⁏
  RETURN NULL⁏
END
$$⁏

-- TRUNCATE fires no DELETE trigger (the bench empties its database that way): forget the
-- truncated table's kind altogether. Deltas go first: a compaction running at the same time
-- is waited for there, and the following DELETE then sees what it moved into stats_hourly.
CREATE FUNCTION stats_rollup_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM stats_hourly_deltas WHERE kind = TG_ARGV[0]⁏
  DELETE FROM stats_hourly WHERE kind = TG_ARGV[0]⁏
  RETURN NULL⁏
END
$$⁏

-- No write may land between the backfill's snapshot and the triggers taking over (that row
-- would be counted twice or never): hold writers off until this migration commits.
LOCK TABLE "domain_events", "notifications", "notification_deliveries" IN SHARE ROW EXCLUSIVE MODE⁏

-- A trigger with transition tables may fire on one event only, hence one trigger per event.
CREATE TRIGGER stats_rollup_insert AFTER INSERT ON "notification_deliveries"
  REFERENCING NEW TABLE AS stats_new FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_deliveries()⁏
CREATE TRIGGER stats_rollup_update AFTER UPDATE ON "notification_deliveries"
  REFERENCING OLD TABLE AS stats_old NEW TABLE AS stats_new FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_deliveries()⁏
CREATE TRIGGER stats_rollup_delete AFTER DELETE ON "notification_deliveries"
  REFERENCING OLD TABLE AS stats_old FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_deliveries()⁏
CREATE TRIGGER stats_rollup_truncate AFTER TRUNCATE ON "notification_deliveries"
  FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_truncate('delivery')⁏

-- Notifications and events never change the columns counted (hour, type), so UPDATE needs no trigger.
CREATE TRIGGER stats_rollup_insert AFTER INSERT ON "notifications"
  REFERENCING NEW TABLE AS stats_new FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_notifications()⁏
CREATE TRIGGER stats_rollup_delete AFTER DELETE ON "notifications"
  REFERENCING OLD TABLE AS stats_old FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_notifications()⁏
CREATE TRIGGER stats_rollup_truncate AFTER TRUNCATE ON "notifications"
  FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_truncate('notification')⁏

CREATE TRIGGER stats_rollup_insert AFTER INSERT ON "domain_events"
  REFERENCING NEW TABLE AS stats_new FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_events()⁏
CREATE TRIGGER stats_rollup_delete AFTER DELETE ON "domain_events"
  REFERENCING OLD TABLE AS stats_old FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_events()⁏
CREATE TRIGGER stats_rollup_truncate AFTER TRUNCATE ON "domain_events"
  FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_truncate('event')⁏

-- Backfill: what already exists, in the shape the triggers write.
INSERT INTO "stats_hourly" (hour, kind, channel, event_type, category, n)
SELECT date_trunc('hour', created_at, 'UTC'), 'delivery', channel, event_type, stats_delivery_category(status), count(*)
  FROM "notification_deliveries" GROUP BY 1, 3, 4, 5
UNION ALL
SELECT date_trunc('hour', created_at, 'UTC'), 'notification', '', event_type, '', count(*)
  FROM "notifications" GROUP BY 1, 4
UNION ALL
SELECT date_trunc('hour', stored_at, 'UTC'), 'event', '', type, '', count(*)
  FROM "domain_events" GROUP BY 1, 4⁏

$install$);

DROP FUNCTION stats_rollup_install(text);
