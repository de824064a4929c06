import { z } from 'zod';
import type { PrismaClient } from '../db/prisma.js';

export const alertRuleKinds = ['balance_below', 'balance_above', 'debit_over'] as const;
export type AlertRuleKind = (typeof alertRuleKinds)[number];

/** Stored as numeric(20,2): more decimals would be silently rounded, so they are refused. */
const threshold = z
  .string({ error: 'must be a decimal string such as "5000.00"' })
  .regex(/^\d{1,15}(\.\d{1,2})?$/, 'must be a non-negative decimal string with at most two decimals, such as "5000.00"');

export const alertRuleInputSchema = z.strictObject({
  kind: z.enum(alertRuleKinds, { error: `must be one of ${alertRuleKinds.join(', ')}` }),
  threshold: threshold.describe('balance_below / balance_above: the balance; debit_over: the debit amount'),
});

/** The body of PUT /v1/accounts/:accountNumber/alert-rules: the account's whole set of rules. */
export const alertRulesInputSchema = z
  .strictObject({ rules: z.array(alertRuleInputSchema).max(20, 'must hold at most 20 rules') })
  .superRefine((input, ctx) => {
    const seen = new Map<string, number>();
    input.rules.forEach((rule, i) => {
      const key = `${rule.kind}:${normalizeAmount(rule.threshold)}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else ctx.addIssue({ code: 'custom', path: ['rules', i], message: `duplicates rules.${first} (same kind and threshold)` });
    });
  });

export type AlertRuleInput = z.infer<typeof alertRuleInputSchema>;

export interface AlertRuleView {
  id: string;
  kind: AlertRuleKind;
  threshold: string;
  /** Balance rules: 'fired' while the balance stays inside the condition (no new alert until it leaves it). */
  state: 'armed' | 'fired';
  firedCount: number;
  lastFiredAt: string | null;
  createdAt: string;
}

export interface AccountAlertRules {
  accountNumber: string;
  currency: string;
  rules: AlertRuleView[];
}

/** The account's rules; null when Herald does not know the account. */
export async function getAlertRules(prisma: PrismaClient, accountNumber: string): Promise<AccountAlertRules | null> {
  const account = await prisma.account.findUnique({
    where: { accountNumber },
    include: { alertRules: { orderBy: [{ kind: 'asc' }, { threshold: 'asc' }] } },
  });
  if (!account) return null;
  return {
    accountNumber: account.accountNumber,
    currency: account.currency,
    rules: account.alertRules.map((r) => ({
      id: r.id,
      kind: r.kind as AlertRuleKind,
      threshold: r.threshold.toFixed(2),
      state: r.state as AlertRuleView['state'],
      firedCount: r.firedCount,
      lastFiredAt: r.lastFiredAt?.toISOString() ?? null,
      createdAt: r.createdAt.toISOString(),
    })),
  };
}

/**
 * Replaces the account's rules with `rules` (a PUT). A rule that stays (same kind and
 * threshold) keeps its id and state, so re-sending the same set never re-arms a fired balance
 * rule into a second alert. Null when Herald does not know the account.
 */
export async function replaceAlertRules(prisma: PrismaClient, accountNumber: string, rules: AlertRuleInput[]): Promise<AccountAlertRules | null> {
  const found = await prisma.$transaction(async (tx) => {
    // Concurrent PUTs for one account apply one after the other, never as a union of both.
    const locked = await tx.$queryRaw<unknown[]>`SELECT 1 FROM accounts WHERE account_number = ${accountNumber} FOR UPDATE`;
    if (locked.length === 0) return false;
    const wanted = rules.map((r) => ({ kind: r.kind, threshold: normalizeAmount(r.threshold) }));
    await tx.alertRule.deleteMany({
      where: wanted.length === 0 ? { accountNumber } : { accountNumber, NOT: { OR: wanted } },
    });
    if (wanted.length > 0) {
      await tx.alertRule.createMany({ data: wanted.map((r) => ({ accountNumber, ...r })), skipDuplicates: true });
    }
    return true;
  });
  return found ? getAlertRules(prisma, accountNumber) : null;
}

/** "0050.5" → "50.50": one spelling per amount, so duplicates are recognised. */
function normalizeAmount(amount: string): string {
  const [whole, fraction = ''] = amount.split('.');
  return `${whole!.replace(/^0+(?=\d)/, '')}.${fraction.padEnd(2, '0')}`;
}
