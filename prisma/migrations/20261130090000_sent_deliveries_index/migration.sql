-- The frequency cap counts a user's non-critical sends per channel in the last hour
-- (recipient-profiles.ts, loadRecentSends), and nothing else reads this index. The full index
-- took an entry for every delivery at fan-out, with sent_at still NULL, which no count can ever
-- read, and another at the SENT update of critical deliveries, which no count reads either.
-- Partial, it takes one entry per countable send, at its SENT update: one index entry fewer
-- per delivery (of nine: four at fan-out, three at the SENT update, two for the history row),
-- and a fraction of the size.
CREATE INDEX "notification_deliveries_recent_sends_idx" ON "notification_deliveries" ("user_id", "channel", "sent_at")
  WHERE "sent_at" IS NOT NULL AND "priority" <> 'critical';
DROP INDEX "notification_deliveries_user_id_channel_sent_at_idx";
