-- Banking flows (SPEC §10): account discovery state on customers, the core bank's product on
-- accounts, and per-account alert rules. Plain DDL only: Prisma's adapter migration runner
-- splits the script at every semicolon.

-- AlterTable
ALTER TABLE "customers" ADD COLUMN     "accounts_discovered_at" TIMESTAMPTZ(3),
ADD COLUMN     "accounts_discovery_attempted_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "accounts" ADD COLUMN     "product" TEXT;

-- CreateTable
CREATE TABLE "alert_rules" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_number" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "threshold" DECIMAL(20,2) NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'armed',
    "fired_count" INTEGER NOT NULL DEFAULT 0,
    "last_fired_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_rules_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "alert_rules_account_number_kind_threshold_key" ON "alert_rules"("account_number", "kind", "threshold");

-- AddForeignKey
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_account_number_fkey" FOREIGN KEY ("account_number") REFERENCES "accounts"("account_number") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: Prisma cannot express CHECK constraints or partial indexes.
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_kind_check"
  CHECK ("kind" IN ('balance_below', 'balance_above', 'debit_over'));
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_state_check"
  CHECK ("state" IN ('armed', 'fired'));
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_threshold_check"
  CHECK ("threshold" >= 0);

-- The discovery sweep's order: customers never attempted first, then the longest waiting.
-- Customers already discovered (nearly all of them) are not in the index.
CREATE INDEX "customers_accounts_undiscovered_idx" ON "customers" ("accounts_discovery_attempted_at" NULLS FIRST, "created_at")
  WHERE "accounts_discovered_at" IS NULL;
