-- Each status change of a delivery writes a new entry into every index of the table (the
-- status and sent_at columns are indexed, so no update is HOT). These three served no hot
-- query: the pollers use notification_deliveries_in_flight_idx, and counting by channel,
-- status or hour reads the stats rollup instead of scanning deliveries.
DROP INDEX "notification_deliveries_status_next_attempt_at_idx";
DROP INDEX "notification_deliveries_channel_status_idx";
DROP INDEX "notification_deliveries_created_at_idx";
