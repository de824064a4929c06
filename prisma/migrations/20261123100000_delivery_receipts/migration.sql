-- CreateTable
CREATE TABLE "delivery_receipts" (
    "id" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "delivery_id" UUID NOT NULL,
    "outcome" TEXT NOT NULL,
    "provider_status" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "delivery_receipts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "delivery_receipts_delivery_id_idx" ON "delivery_receipts"("delivery_id");

-- AddForeignKey
ALTER TABLE "delivery_receipts" ADD CONSTRAINT "delivery_receipts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "notification_deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Hand-written: status-like columns are text with CHECK constraints (see the init migration).
ALTER TABLE "delivery_receipts" ADD CONSTRAINT "delivery_receipts_outcome_check"
  CHECK ("outcome" IN ('delivered', 'failed'));
ALTER TABLE "delivery_receipts" ADD CONSTRAINT "delivery_receipts_channel_check"
  CHECK ("channel" IN ('push', 'email', 'sms'));
