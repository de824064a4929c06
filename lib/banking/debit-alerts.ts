import { prepared } from '../db/prepared.js';
import type { PayloadOf } from '../events/catalog/index.js';
import type { EventInput } from '../events/envelope.js';
import type { DurableHandler } from '../events/event-processor.js';
import type { StoredEvent } from '../events/stored-event.js';
import { stableEventId } from './stable-id.js';
import { storeEvents } from './store-events.js';

export interface DebitAlertOptions {
  /** Tells live subscribers about the new alerts once they are committed; without it they wait for the sweeper. */
  broadcast?: (events: StoredEvent[]) => Promise<void>;
}

interface Match {
  event_id: string;
  rule_id: string;
  threshold: string;
  owner_user_id: string;
}

/**
 * debit_over rules, evaluated where transaction.completed is processed: inside the claim
 * transaction, so an alert is stored exactly when its transaction is marked processed. It
 * sits on the hot path, so it costs one statement per batch with debits (an index probe of
 * alert_rules per debit, nothing else when no rule matches) and writes only on a match.
 * The alert's id is derived from the rule and the transaction event, so a replay or a retry
 * of the batch finds the alert already stored and neither stores nor broadcasts it again.
 */
export function createDebitAlertHandler(options: DebitAlertOptions = {}): DurableHandler {
  return {
    name: 'banking.debit-alerts',
    types: ['transaction.completed'],
    async handle(events, { client }) {
      const debits = events.filter((e) => e.type === 'transaction.completed' && e.payload.direction === 'debit');
      if (debits.length === 0) return;
      const { rows } = await client.query<Match>(prepared('debit-rule-matches',
        `SELECT t.event_id, r.id AS rule_id, r.threshold::text AS threshold, a.owner_user_id
           FROM jsonb_to_recordset($1::jsonb) AS t(event_id uuid, account_number text, amount numeric)
           JOIN alert_rules r ON r.account_number = t.account_number AND r.kind = 'debit_over' AND t.amount > r.threshold
           JOIN accounts a ON a.account_number = r.account_number`,
        [JSON.stringify(debits.map((e) => {
          const p = e.payload as PayloadOf<'transaction.completed'>;
          return { event_id: e.id, account_number: p.accountNumber, amount: p.amount };
        }))],
      ));
      if (rows.length === 0) return;
      const byId = new Map(debits.map((e) => [e.id, e]));
      const stored = await storeEvents(client, rows.map((row) => debitAlert(row, byId.get(row.event_id)!)));
      const broadcast = options.broadcast;
      if (stored.length > 0 && broadcast) return () => broadcast(stored);
    },
  };
}

function debitAlert(row: Match, event: StoredEvent): EventInput {
  const p = event.payload as PayloadOf<'transaction.completed'>;
  return {
    id: stableEventId('debit-rule', row.rule_id, event.id),
    type: 'alert.triggered',
    aggregateType: 'alert',
    aggregateId: row.rule_id,
    payload: { alertId: row.rule_id, accountNumber: p.accountNumber, rule: 'debit_over', value: p.amount, threshold: row.threshold, currency: p.currency },
    metadata: {
      userId: row.owner_user_id,
      ...(event.metadata.correlationId ? { correlationId: event.metadata.correlationId } : {}),
      causationId: event.id,
      source: 'herald.alert-rules',
    },
  };
}
