import { describe, expect, it } from 'vitest';
import type { ChannelName } from '../../lib/channels/channel.js';
import { eventCatalog, type EventType } from '../../lib/events/catalog/index.js';
import type { StoredEvent } from '../../lib/events/stored-event.js';
import { routingTable } from '../../lib/notifications/routing.js';
import { en } from '../../lib/notifications/templates/en.js';
import { ny } from '../../lib/notifications/templates/ny.js';
import { MissingTemplateError, TemplateRenderer } from '../../lib/notifications/templates/template-renderer.js';
import type { LocaleBundle } from '../../lib/notifications/templates/template-types.js';

const accountNumber = '0012009871234';
const masked = '****1234';
/** 22:05 UTC is 00:05 the next day in Blantyre (UTC+2). */
const timestamp = '2026-11-23T22:05:00.000Z';

/** One realistic payload per routed type, with every optional field a template may print. */
const samples: Record<string, Record<string, unknown>> = {
  'transaction.created': { transactionId: 't-1', accountNumber, amount: '1250', currency: 'MWK', direction: 'debit', counterparty: 'Chipiku Stores' },
  'transaction.completed': {
    transactionId: 't-2', accountNumber, amount: '1250.00', currency: 'MWK', direction: 'debit',
    description: 'Groceries', counterparty: 'Chipiku Stores', balanceAfter: '48750.00',
  },
  'transaction.failed': { transactionId: 't-3', accountNumber, amount: '1250.00', currency: 'MWK', direction: 'credit', reason: 'insufficient funds' },
  'account.created': { accountNumber, ownerUserId: 'u-1', currency: 'MWK', productType: 'savings' },
  'account.frozen': { accountNumber, reason: 'suspected fraud' },
  'account.unfrozen': { accountNumber, reason: 'verified by branch' },
  'account.balance.low': { accountNumber, balance: '950.50', threshold: '5000', currency: 'MWK' },
  'checkbook.requested': { requestId: 'cb-77', accountNumber, branch: 'Blantyre Main', leaves: 50 },
  'checkbook.approved': { requestId: 'cb-77', accountNumber, branch: 'Blantyre Main', leaves: 50 },
  'checkbook.ready': { requestId: 'cb-77', accountNumber, branch: 'Blantyre Main', leaves: 50 },
  'checkbook.collected': { requestId: 'cb-77', accountNumber, branch: 'Blantyre Main' },
  'checkbook.rejected': { requestId: 'cb-77', accountNumber, branch: 'Blantyre Main', reason: 'account under review' },
  'user.registered': { userId: 'u-1', email: 'chikondi@example.mw', phone: '+265991234567', locale: 'ny', timeZone: 'Africa/Blantyre' },
  'user.login': { userId: 'u-1', ip: '196.45.12.8', device: 'Android phone' },
  'user.login.failed': { userId: 'u-1', ip: '196.45.12.8', device: 'Chrome on Windows', attempts: 3 },
  'alert.triggered': { alertId: 'al-9', accountNumber, rule: 'balance_below', value: '950.50', threshold: '5000.00', currency: 'MWK' },
};

function event(type: EventType, payload: Record<string, unknown> = samples[type]!): StoredEvent {
  return {
    id: '0b7c1c5e-3f4e-4a53-9d7e-2f8b8f0a1c11',
    type,
    aggregateType: eventCatalog[type].aggregateType,
    aggregateId: 'agg-1',
    payload: eventCatalog[type].payload.parse(payload),
    metadata: { userId: 'u-1', source: 'test' },
    timestamp,
    storedAt: timestamp,
  } as StoredEvent;
}

const renderer = new TemplateRenderer();
const routed = Object.entries(routingTable) as [EventType, { channels: readonly ChannelName[] }][];
const cases = routed.flatMap(([type, rule]) => rule.channels.flatMap((channel) => renderer.locales.map((locale) => ({ type, channel, locale }))));

function textFields(content: object): Record<string, string> {
  return Object.fromEntries(Object.entries(content).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

describe('template catalog', () => {
  it('has a valid sample payload for every routed type, and the renderer knows en and ny', () => {
    expect(Object.keys(samples).sort()).toEqual(routed.map(([type]) => type).sort());
    for (const [type] of routed) expect(() => event(type)).not.toThrow();
    expect(renderer.locales).toEqual(expect.arrayContaining(['en', 'ny']));
  });

  it.each(cases)('$type:$channel:$locale renders every field, masks the account number', ({ type, channel, locale }) => {
    const content = renderer.render(event(type), channel, { locale, timeZone: 'Africa/Blantyre' });
    const fields = textFields(content);
    const expected = channel === 'push' ? ['title', 'body'] : channel === 'email' ? ['subject', 'text', 'html'] : ['text'];
    expect(Object.keys(fields).sort()).toEqual(expected.sort());
    for (const [field, value] of Object.entries(fields)) {
      expect(value.trim(), `${field} is empty`).not.toBe('');
      expect(value, `${field} has an unrendered expression`).not.toMatch(/\{\{|\}\}|\[object Object\]|undefined|NaN/);
      expect(value, `${field} shows the full account number`).not.toContain(accountNumber);
    }
    if (samples[type]!.accountNumber) expect(Object.values(fields).join('\n')).toContain(masked);
    if (channel === 'sms' && locale === 'en') expect(fields.text!.length).toBeLessThanOrEqual(160);
    // Chichewa is longer, but should still fit one segment with these realistic values.
    if (channel === 'sms') expect(fields.text!.length).toBeLessThanOrEqual(160);
  });

  it('never shows the full account number, even with every optional field missing', () => {
    for (const { type, channel, locale } of cases) {
      const full = samples[type]!;
      const shape = (eventCatalog[type].payload as unknown as { shape: Record<string, { safeParse(v: unknown): { success: boolean } }> }).shape;
      const required = Object.fromEntries(Object.entries(full).filter(([key]) => !shape[key]!.safeParse(undefined).success));
      const content = renderer.render(event(type, required), channel, { locale, timeZone: 'UTC' });
      for (const value of Object.values(textFields(content))) {
        expect(value.trim()).not.toBe('');
        expect(value).not.toContain(accountNumber);
      }
    }
  });
});

describe('formatting inside templates', () => {
  it('formats amounts with grouping and two decimals', () => {
    const en = renderer.render(event('transaction.completed'), 'sms', { locale: 'en', timeZone: 'Africa/Blantyre' });
    expect(en.text).toContain('MWK 1,250.00');
    expect(en.text).toContain('MWK 48,750.00');
    const ny = renderer.render(event('transaction.completed'), 'sms', { locale: 'ny', timeZone: 'Africa/Blantyre' });
    expect(ny.text).toContain('MWK 1,250.00');
    const low = renderer.render(event('account.balance.low'), 'push', { locale: 'en', timeZone: 'UTC' });
    expect(low.body).toContain('MWK 950.50');
    expect(low.body).toContain('MWK 5,000.00');
  });

  it("renders the date in the recipient's time zone", () => {
    const blantyre = renderer.render(event('account.frozen'), 'sms', { locale: 'en', timeZone: 'Africa/Blantyre' });
    const utc = renderer.render(event('account.frozen'), 'sms', { locale: 'en', timeZone: 'UTC' });
    expect(blantyre.text).toContain('24 Nov 2026, 00:05');
    expect(utc.text).toContain('23 Nov 2026, 22:05');
    const nyBlantyre = renderer.render(event('account.frozen'), 'sms', { locale: 'ny', timeZone: 'Africa/Blantyre' });
    const nyUtc = renderer.render(event('account.frozen'), 'sms', { locale: 'ny', timeZone: 'UTC' });
    expect(nyBlantyre.text).toContain('24 Novembala 2026, 00:05');
    expect(nyUtc.text).toContain('23 Novembala 2026, 22:05');
  });

  it('uses Chichewa for ny and keeps the brand name', () => {
    const sms = renderer.render(event('transaction.completed'), 'sms', { locale: 'ny', timeZone: 'Africa/Blantyre' });
    expect(sms.text).toMatch(/^Herald Bank: /);
    expect(sms.text).toContain('zachotsedwa');
    const credit = renderer.render(event('transaction.completed', { ...samples['transaction.completed'], direction: 'credit' }), 'push', { locale: 'ny', timeZone: 'UTC' });
    expect(credit.title).toBe('Ndalama zalandiridwa');
    expect(credit.body).toContain('zalowa');
  });

  it('falls back to en for a locale without templates', () => {
    const fr = renderer.render(event('account.frozen'), 'push', { locale: 'fr', timeZone: 'UTC' });
    const en = renderer.render(event('account.frozen'), 'push', { locale: 'en', timeZone: 'UTC' });
    expect(fr).toEqual(en);
  });

  it('renders every alert rule in both locales', () => {
    for (const rule of ['balance_below', 'balance_above', 'debit_over', 'custom'] as const) {
      for (const locale of renderer.locales) {
        const payload = { alertId: 'al-9', accountNumber, rule, value: '120000.00', threshold: '100000.00', currency: 'MWK', ...(rule === 'custom' && { description: 'Card used abroad' }) };
        const sms = renderer.render(event('alert.triggered', payload), 'sms', { locale, timeZone: 'UTC' });
        expect(sms.text).toContain(masked);
        if (rule === 'custom') expect(sms.text).toContain('Card used abroad');
        else expect(sms.text).toContain('MWK 100,000.00');
      }
    }
  });
});

describe('HTML email', () => {
  it('escapes markup from payload fields while the plain-text parts keep it verbatim', () => {
    const script = '<script>alert("x")</script>';
    for (const locale of renderer.locales) {
      const payload = { ...samples['transaction.completed'], counterparty: script, description: script };
      const email = renderer.render(event('transaction.completed', payload), 'email', { locale, timeZone: 'UTC' });
      expect(email.html).not.toContain('<script>');
      expect(email.html).toContain('&lt;script&gt;');
      expect(email.text).toContain(script);
      const push = renderer.render(event('transaction.completed', payload), 'push', { locale, timeZone: 'UTC' });
      expect(push.body).toContain(script); // push is plain text: nothing to escape, nothing lost
    }
  });
});

describe('missing templates', () => {
  function without(bundle: LocaleBundle, type: EventType, channel: ChannelName): LocaleBundle {
    const { [channel]: _dropped, ...rest } = bundle.templates[type]!;
    return { ...bundle, templates: { ...bundle.templates, [type]: rest } };
  }

  it('refuses to construct when a routed type lacks a template, naming type:channel:locale', () => {
    expect(() => new TemplateRenderer({ en, ny: without(ny, 'account.frozen', 'sms') })).toThrow(MissingTemplateError);
    try {
      new TemplateRenderer({ en, ny: without(ny, 'account.frozen', 'sms') });
      expect.unreachable();
    } catch (error) {
      expect((error as MissingTemplateError).missing).toEqual(['account.frozen:sms:ny']);
      expect((error as Error).message).toContain('account.frozen:sms:ny');
      expect((error as MissingTemplateError).code).toBe('HERALD_ERR_TEMPLATE_MISSING');
    }
  });

  it('lists every missing template at once', () => {
    const noLogin: LocaleBundle = { ...en, templates: { ...en.templates, 'user.login': undefined } };
    try {
      new TemplateRenderer({ en: without(noLogin, 'checkbook.ready', 'push') });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MissingTemplateError);
      expect((error as MissingTemplateError).missing.sort()).toEqual(['checkbook.ready:push:en', 'user.login:push:en']);
    }
  });
});
