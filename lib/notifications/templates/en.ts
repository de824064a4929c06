import type { LocaleBundle } from './template-types.js';

/**
 * English. Helpers: {{money amount currency}}, {{mask accountNumber}}, {{date timestamp}}.
 * SMS stays under 160 characters for typical values: one segment, one charge.
 */
export const en: LocaleBundle = {
  partials: {
    direction: '{{#if isDebit}}debited{{else}}credited{{/if}}',
    directionNoun: '{{#if isDebit}}payment{{else}}deposit{{/if}}',
    alertSentence:
      '{{#if payload.accountNumber}}Account {{mask payload.accountNumber}}: {{/if}}{{#if (eq payload.rule "balance_below")}}balance {{money payload.value payload.currency}} fell below {{money payload.threshold payload.currency}}.{{else if (eq payload.rule "balance_above")}}balance {{money payload.value payload.currency}} rose above {{money payload.threshold payload.currency}}.{{else if (eq payload.rule "debit_over")}}a debit of {{money payload.value payload.currency}} exceeded your limit of {{money payload.threshold payload.currency}}.{{else}}{{#if payload.description}}{{payload.description}}{{else}}alert {{payload.alertId}} was triggered.{{/if}}{{/if}}',
  },
  templates: {
  'transaction.created': {
    push: { title: 'Transaction pending', body: '{{money payload.amount payload.currency}} {{> direction}} on {{mask payload.accountNumber}} is being processed.' },
  },
  'transaction.completed': {
    push: { title: '{{#if isDebit}}Money sent{{else}}Money received{{/if}}', body: '{{money payload.amount payload.currency}} {{> direction}} on {{mask payload.accountNumber}}{{#if payload.counterparty}} ({{payload.counterparty}}){{/if}}.' },
    email: {
      subject: 'Transaction of {{money payload.amount payload.currency}} on {{mask payload.accountNumber}}',
      text: 'A {{> directionNoun}} of {{money payload.amount payload.currency}} on account {{mask payload.accountNumber}} was completed on {{date timestamp}}.{{#if payload.description}}\nDescription: {{payload.description}}{{/if}}{{#if payload.balanceAfter}}\nAvailable balance: {{money payload.balanceAfter payload.currency}}{{/if}}\n\nIf you did not make this transaction, call us immediately.',
    },
    sms: { text: 'Herald Bank: {{money payload.amount payload.currency}} {{> direction}} on {{mask payload.accountNumber}} {{date timestamp}}.{{#if payload.balanceAfter}} Bal {{money payload.balanceAfter payload.currency}}.{{/if}}' },
  },
  'transaction.failed': {
    push: { title: 'Transaction failed', body: 'Your {{> directionNoun}} of {{money payload.amount payload.currency}} on {{mask payload.accountNumber}} did not go through.{{#if payload.reason}} Reason: {{payload.reason}}.{{/if}}' },
    sms: { text: 'Herald Bank: {{> directionNoun}} of {{money payload.amount payload.currency}} on {{mask payload.accountNumber}} failed {{date timestamp}}.' },
  },
  'account.created': {
    push: { title: 'Account opened', body: 'Your new account {{mask payload.accountNumber}} is ready.' },
    email: { subject: 'Your new account {{mask payload.accountNumber}}', text: 'Welcome! Your {{payload.currency}} account {{mask payload.accountNumber}} was opened on {{date timestamp}}.' },
  },
  'account.frozen': {
    push: { title: 'Account frozen', body: 'Account {{mask payload.accountNumber}} has been frozen. Call us if this was not you.' },
    email: { subject: 'Important: account {{mask payload.accountNumber}} frozen', text: 'Account {{mask payload.accountNumber}} was frozen on {{date timestamp}}.{{#if payload.reason}}\nReason: {{payload.reason}}{{/if}}\n\nIf you did not ask for this, call us immediately.' },
    sms: { text: 'Herald Bank: account {{mask payload.accountNumber}} was FROZEN {{date timestamp}}. Not you? Call us now.' },
  },
  'account.unfrozen': {
    push: { title: 'Account active again', body: 'Account {{mask payload.accountNumber}} is no longer frozen.' },
    email: { subject: 'Account {{mask payload.accountNumber}} unfrozen', text: 'Account {{mask payload.accountNumber}} was unfrozen on {{date timestamp}} and can be used again.' },
    sms: { text: 'Herald Bank: account {{mask payload.accountNumber}} is active again ({{date timestamp}}).' },
  },
  'account.balance.low': {
    push: { title: 'Low balance', body: 'Balance on {{mask payload.accountNumber}} is {{money payload.balance payload.currency}}, below your {{money payload.threshold payload.currency}} alert.' },
    email: { subject: 'Low balance on {{mask payload.accountNumber}}', text: 'The balance of account {{mask payload.accountNumber}} is {{money payload.balance payload.currency}}, below your alert threshold of {{money payload.threshold payload.currency}} ({{date timestamp}}).' },
    sms: { text: 'Herald Bank: bal on {{mask payload.accountNumber}} is {{money payload.balance payload.currency}}, below {{money payload.threshold payload.currency}}.' },
  },
  'checkbook.requested': {
    push: { title: 'Checkbook requested', body: 'We received your checkbook request for {{mask payload.accountNumber}}.' },
    email: { subject: 'Checkbook request {{payload.requestId}} received', text: 'We received your request for a checkbook on account {{mask payload.accountNumber}} on {{date timestamp}}.{{#if payload.branch}} Collection branch: {{payload.branch}}.{{/if}}' },
  },
  'checkbook.approved': {
    push: { title: 'Checkbook approved', body: 'Your checkbook for {{mask payload.accountNumber}} was approved and is being printed.' },
  },
  'checkbook.ready': {
    push: { title: 'Checkbook ready', body: 'Your checkbook for {{mask payload.accountNumber}} is ready for collection{{#if payload.branch}} at {{payload.branch}}{{/if}}.' },
    sms: { text: 'Herald Bank: checkbook for {{mask payload.accountNumber}} ready{{#if payload.branch}} at {{payload.branch}}{{/if}}. Bring your ID.' },
  },
  'checkbook.collected': {
    push: { title: 'Checkbook collected', body: 'Your checkbook for {{mask payload.accountNumber}} was collected on {{date timestamp}}.' },
  },
  'checkbook.rejected': {
    push: { title: 'Checkbook request declined', body: 'Your checkbook request for {{mask payload.accountNumber}} was declined.{{#if payload.reason}} {{payload.reason}}{{/if}}' },
    email: { subject: 'Checkbook request {{payload.requestId}} declined', text: 'Your checkbook request for account {{mask payload.accountNumber}} was declined on {{date timestamp}}.{{#if payload.reason}}\nReason: {{payload.reason}}{{/if}}' },
    sms: { text: 'Herald Bank: checkbook request for {{mask payload.accountNumber}} declined. Visit your branch for details.' },
  },
  'user.registered': {
    email: { subject: 'Welcome to Herald Bank', text: 'Welcome! Your online banking profile was created on {{date timestamp}}. We will keep you informed about activity on your accounts.' },
    sms: { text: 'Welcome to Herald Bank! Your online banking profile is active.' },
  },
  'user.login': {
    push: { title: 'New sign-in', body: 'You signed in{{#if payload.device}} on {{payload.device}}{{/if}} at {{date timestamp}}.' },
  },
  'user.login.failed': {
    push: { title: 'Failed sign-in attempt', body: 'Someone failed to sign in to your profile{{#if payload.attempts}} ({{payload.attempts}} attempts){{/if}} at {{date timestamp}}.' },
    email: { subject: 'Security alert: failed sign-in', text: 'There was a failed attempt to sign in to your profile at {{date timestamp}}{{#if payload.device}} from {{payload.device}}{{/if}}{{#if payload.attempts}}, {{payload.attempts}} attempts in a row{{/if}}.\n\nIf this was not you, change your password and call us.' },
    sms: { text: 'Herald Bank: failed sign-in to your profile {{date timestamp}}. Not you? Call us now.' },
  },
  'alert.triggered': {
    push: { title: 'Account alert', body: '{{> alertSentence}}' },
    email: { subject: 'Account alert{{#if payload.accountNumber}} on {{mask payload.accountNumber}}{{/if}}', text: '{{> alertSentence}}\nTriggered on {{date timestamp}}.' },
    sms: { text: 'Herald Bank alert: {{> alertSentence}}' },
  },
  },
};
