import { describe, expect, it } from 'vitest';
import { onboardingEvents } from '../../lib/banking/demo-traffic.js';

describe('demo onboarding', () => {
  it('onboards the same customers, accounts and currencies on every run, so a restarted demo matches what it stored', () => {
    const first = Array.from({ length: 40 }, (_, i) => onboardingEvents(i));
    const again = Array.from({ length: 40 }, (_, i) => onboardingEvents(i));
    expect(again.map((o) => o.customer)).toEqual(first.map((o) => o.customer));
    expect(again.map((o) => o.events)).toEqual(first.map((o) => o.events));
    // The account.created event carries the currency the simulated bank opens the account in.
    for (const { customer, events } of first) {
      const created = events.find((e) => e.type === 'account.created')!;
      expect(created.payload).toMatchObject({ accountNumber: customer.accountNumber, currency: customer.currency });
    }
    const currencies = new Set(first.map((o) => o.customer.currency));
    expect(currencies).toEqual(new Set(['MWK', 'USD']));
  });
});
