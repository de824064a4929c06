import type { PoolClient } from '../db/pool.js';
import { prepared } from '../db/prepared.js';
import type { EventInput } from '../events/envelope.js';
import { stableEventId } from './stable-id.js';

export interface SyncedBalance {
  accountNumber: string;
  balance: string;
  currency: string;
  ownerUserId: string;
}

interface Crossing {
  rule_id: string;
  kind: 'balance_below' | 'balance_above';
  threshold: string;
  fired_count: number;
  account_number: string;
  /** After the update: 'fired' is a crossing into the condition, 'armed' a re-arm. */
  state: 'armed' | 'fired';
}

/**
 * Edge-triggered balance rules. One statement moves every rule whose condition changed for
 * these balances: armed → fired when the balance entered the condition (that is an alert),
 * fired → armed when it left it (no alert; the rule may fire again). A rule already fired
 * stays quiet however many syncs find the balance still low. The state change and the alert
 * event are written in the caller's transaction, so a run that fails after this point leaves
 * neither, and a second evaluation of the same balance finds nothing left to cross.
 */
export async function evaluateBalanceRules(client: PoolClient, synced: SyncedBalance[], correlationId: string): Promise<EventInput[]> {
  if (synced.length === 0) return [];
  const { rows } = await client.query<Crossing>(prepared('balance-rule-crossings',
    `WITH s AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(account_number text, balance numeric))
     UPDATE alert_rules r
        SET state = CASE WHEN r.state = 'armed' THEN 'fired' ELSE 'armed' END,
            fired_count = r.fired_count + CASE WHEN r.state = 'armed' THEN 1 ELSE 0 END,
            last_fired_at = CASE WHEN r.state = 'armed' THEN now() ELSE r.last_fired_at END
       FROM s
      WHERE r.account_number = s.account_number
        AND r.kind IN ('balance_below', 'balance_above')
        AND (r.state = 'armed') = CASE r.kind WHEN 'balance_below' THEN s.balance < r.threshold ELSE s.balance > r.threshold END
     RETURNING r.id AS rule_id, r.kind, r.threshold::text AS threshold, r.fired_count, r.account_number, r.state`,
    [JSON.stringify(synced.map((s) => ({ account_number: s.accountNumber, balance: s.balance })))],
  ));
  const byAccount = new Map(synced.map((s) => [s.accountNumber, s]));
  return rows
    .filter((row) => row.state === 'fired')
    .map((row) => crossingEvent(row, byAccount.get(row.account_number)!, correlationId));
}

function crossingEvent(row: Crossing, account: SyncedBalance, correlationId: string): EventInput {
  // The rule's crossing number names the event: the n-th time this rule fired is one event, whoever stores it.
  const id = stableEventId('balance-rule', row.rule_id, String(row.fired_count));
  const metadata = { userId: account.ownerUserId, correlationId, source: 'herald.alert-rules' };
  if (row.kind === 'balance_below') {
    return {
      id, type: 'account.balance.low', aggregateType: 'account', aggregateId: account.accountNumber,
      payload: { accountNumber: account.accountNumber, balance: account.balance, threshold: row.threshold, currency: account.currency },
      metadata,
    };
  }
  return {
    id, type: 'alert.triggered', aggregateType: 'alert', aggregateId: row.rule_id,
    payload: { alertId: row.rule_id, accountNumber: account.accountNumber, rule: 'balance_above', value: account.balance, threshold: row.threshold, currency: account.currency },
    metadata,
  };
}
