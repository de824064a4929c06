import Handlebars from 'handlebars';
import type { ChannelName, ContentByChannel } from '../../channels/channel.js';
import type { StoredEvent } from '../../events/stored-event.js';
import { routingTable } from '../routing.js';
import { en } from './en.js';
import { ny } from './ny.js';
import { formatDate, formatMoney, formatAmount, maskAccount } from './formatting.js';
import type { EventTemplates, LocaleBundle } from './template-types.js';

export const defaultLocales: Record<string, LocaleBundle> = { en, ny };
export const fallbackLocale = 'en';

type Compiled = (context: object) => string;
type CompiledChannel = { [K in keyof EventTemplates]: { [F in keyof Required<EventTemplates[K]>]: Compiled } };

export class MissingTemplateError extends Error {
  readonly code = 'HERALD_ERR_TEMPLATE_MISSING';
  constructor(readonly missing: string[]) {
    super(`Missing notification templates: ${missing.join(', ')}`);
    this.name = 'MissingTemplateError';
  }
}

export interface RenderContext {
  locale: string;
  timeZone: string;
}

const emailLayout = Handlebars.compile(
  '<!doctype html><html><body style="font-family:Arial,sans-serif;color:#1b2733">' +
    '{{#each paragraphs}}<p>{{this}}</p>{{/each}}' +
    '<hr><p style="font-size:12px;color:#66737f">Herald Bank will never ask for your PIN or password.</p></body></html>',
);

/**
 * Compiles every template once at start-up and refuses to start when a routed event type
 * lacks a template for one of its channels in any locale: a missing template is a deploy
 * error, never a surprise at 3 a.m.
 */
export class TemplateRenderer {
  private readonly compiled = new Map<string, Partial<CompiledChannel>>();
  readonly locales: string[];

  constructor(bundles: Record<string, LocaleBundle> = defaultLocales) {
    this.locales = Object.keys(bundles);
    const missing: string[] = [];
    for (const [locale, bundle] of Object.entries(bundles)) {
      const hbs = Handlebars.create();
      hbs.registerHelper('money', (amount: unknown, currency: unknown) =>
        typeof amount !== 'string' ? '' : typeof currency === 'string' ? formatMoney(amount, currency) : formatAmount(amount),
      );
      hbs.registerHelper('mask', (value: unknown) => (typeof value === 'string' ? maskAccount(value) : ''));
      hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
      hbs.registerHelper('date', function (this: unknown, iso: unknown, options: Handlebars.HelperOptions) {
        const root = options.data.root as { recipient: RenderContext };
        return typeof iso === 'string' ? formatDate(iso, root.recipient.timeZone, locale) : '';
      });
      for (const [name, source] of Object.entries(bundle.partials)) hbs.registerPartial(name, source);

      for (const [type, rule] of Object.entries(routingTable)) {
        const templates = bundle.templates[type as keyof typeof bundle.templates];
        const byChannel: Partial<CompiledChannel> = {};
        for (const channel of rule!.channels) {
          const source = templates?.[channel];
          if (!source) {
            missing.push(`${type}:${channel}:${locale}`);
            continue;
          }
          const compile = (s: string, html = false) => hbs.compile(s, { noEscape: !html, strict: false });
          if (channel === 'push') {
            const s = source as EventTemplates['push'];
            byChannel.push = { title: compile(s.title), body: compile(s.body) };
          } else if (channel === 'email') {
            const s = source as EventTemplates['email'];
            const text = compile(s.text);
            byChannel.email = {
              subject: compile(s.subject),
              text,
              html: s.html ? compile(s.html, true) : (ctx) => emailLayout({ paragraphs: text(ctx).split('\n').filter(Boolean) }),
            };
          } else {
            byChannel.sms = { text: compile((source as EventTemplates['sms']).text) };
          }
        }
        this.compiled.set(`${type}:${locale}`, byChannel);
      }
    }
    if (missing.length > 0) throw new MissingTemplateError(missing);
  }

  render<C extends ChannelName>(event: StoredEvent, channel: C, context: RenderContext): ContentByChannel[C] {
    const locale = this.locales.includes(context.locale) ? context.locale : fallbackLocale;
    const templates = this.compiled.get(`${event.type}:${locale}`)?.[channel];
    if (!templates) throw new MissingTemplateError([`${event.type}:${channel}:${locale}`]);
    const payload = event.payload as Record<string, unknown>;
    const data = {
      ...event,
      payload,
      isDebit: payload.direction === 'debit',
      recipient: { locale, timeZone: context.timeZone },
    };
    const out: Record<string, string> = {};
    for (const [field, template] of Object.entries(templates)) out[field] = (template as Compiled)(data).trim();
    if (channel === 'push') (out as Record<string, unknown>).data = { eventId: event.id, eventType: event.type };
    return out as unknown as ContentByChannel[C];
  }
}
