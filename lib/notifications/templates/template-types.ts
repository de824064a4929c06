import type { ChannelName } from '../../channels/channel.js';
import type { EventType } from '../../events/catalog/index.js';

/** Handlebars sources for one event type in one locale; `html` defaults to the text wrapped in the layout. */
export interface EventTemplates {
  push: { title: string; body: string };
  email: { subject: string; text: string; html?: string };
  sms: { text: string };
}

/** Only the channels an event is routed to need a template. */
export type LocaleTemplates = Partial<Record<EventType, Partial<EventTemplates>>>;

export type TemplateKey = `${EventType}:${ChannelName}:${string}`;

export interface LocaleBundle {
  /** Locale-specific phrases shared by several templates, used as {{> name}}. */
  partials: Record<string, string>;
  templates: LocaleTemplates;
}
