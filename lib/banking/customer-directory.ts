import type { DurableHandler } from '../events/event-processor.js';
import type { PayloadOf } from '../events/catalog/index.js';

/**
 * Keeps Herald's copy of who customers are and which accounts they own, from the events
 * core banking already publishes. It runs before fan-out in the same transaction, so a
 * welcome message can reach the contact details its own event brought.
 */
export function createCustomerDirectoryHandler(): DurableHandler {
  return {
    name: 'banking.customer-directory',
    types: ['user.registered', 'account.created'],
    async handle(events, { client }) {
      const users = events
        .filter((e) => e.type === 'user.registered')
        .map((e) => e.payload as PayloadOf<'user.registered'>);
      if (users.length > 0) {
        await client.query(
          `INSERT INTO customers (user_id, email, phone, locale, time_zone)
           SELECT user_id, email, phone, coalesce(locale, 'en'), coalesce(time_zone, 'UTC')
             FROM jsonb_to_recordset($1::jsonb) AS x(user_id text, email text, phone text, locale text, time_zone text)
           ON CONFLICT (user_id) DO UPDATE SET
             email = coalesce(excluded.email, customers.email), phone = coalesce(excluded.phone, customers.phone),
             locale = excluded.locale, time_zone = excluded.time_zone, updated_at = now()`,
          [JSON.stringify(users.map((u) => ({ user_id: u.userId, email: u.email, phone: u.phone, locale: u.locale, time_zone: u.timeZone })))],
        );
      }
      const accounts = events
        .filter((e) => e.type === 'account.created')
        .map((e) => e.payload as PayloadOf<'account.created'>);
      if (accounts.length > 0) {
        await client.query(
          `WITH a AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(account_number text, owner_user_id text, currency text))
           , c AS (INSERT INTO customers (user_id) SELECT DISTINCT owner_user_id FROM a ON CONFLICT DO NOTHING)
           INSERT INTO accounts (account_number, owner_user_id, currency) SELECT account_number, owner_user_id, currency FROM a
           ON CONFLICT (account_number) DO UPDATE SET owner_user_id = excluded.owner_user_id, currency = excluded.currency`,
          [JSON.stringify(accounts.map((a) => ({ account_number: a.accountNumber, owner_user_id: a.ownerUserId, currency: a.currency })))],
        );
      }
    },
  };
}
