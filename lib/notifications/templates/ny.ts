import type { LocaleBundle } from './template-types.js';

/**
 * Chichewa (Nyanja). Same helpers as en: {{money amount currency}}, {{mask accountNumber}},
 * {{date timestamp}} (Chichewa month names, see formatting.ts), {{eq a b}}.
 * "Herald Bank" stays as the brand name. SMS is kept to one segment for typical values.
 * The partials are phrased to sit mid-sentence: directionNoun is an infinitive (ku- class),
 * so it agrees with "kwa" whatever the direction.
 */
export const ny: LocaleBundle = {
  partials: {
    direction: '{{#if isDebit}}zachotsedwa{{else}}zalowa{{/if}}',
    directionNoun: '{{#if isDebit}}kulipira{{else}}kuika ndalama{{/if}}',
    alertSentence:
      '{{#if payload.accountNumber}}Akaunti {{mask payload.accountNumber}}: {{/if}}{{#if (eq payload.rule "balance_below")}}ndalama zotsala {{money payload.value payload.currency}} zatsika pansi pa {{money payload.threshold payload.currency}}.{{else if (eq payload.rule "balance_above")}}ndalama zotsala {{money payload.value payload.currency}} zakwera kuposa {{money payload.threshold payload.currency}}.{{else if (eq payload.rule "debit_over")}}ndalama zochotsedwa {{money payload.value payload.currency}} zapitirira malire anu a {{money payload.threshold payload.currency}}.{{else}}{{#if payload.description}}{{payload.description}}{{else}}chenjezo {{payload.alertId}} lachitika.{{/if}}{{/if}}',
  },
  templates: {
  'transaction.created': {
    push: { title: 'Ndalama zikukonzedwa', body: 'Tikukonza {{> directionNoun}} kwa {{money payload.amount payload.currency}} pa akaunti {{mask payload.accountNumber}}.' },
  },
  'transaction.completed': {
    push: { title: '{{#if isDebit}}Ndalama zatumizidwa{{else}}Ndalama zalandiridwa{{/if}}', body: '{{money payload.amount payload.currency}} {{> direction}} mu akaunti {{mask payload.accountNumber}}{{#if payload.counterparty}} ({{payload.counterparty}}){{/if}}.' },
    email: {
      subject: 'Ndalama {{money payload.amount payload.currency}} pa akaunti {{mask payload.accountNumber}}',
      text: 'Tamaliza {{> directionNoun}} kwa {{money payload.amount payload.currency}} pa akaunti {{mask payload.accountNumber}} pa {{date timestamp}}.{{#if payload.description}}\nZofotokozera: {{payload.description}}{{/if}}{{#if payload.balanceAfter}}\nNdalama zotsala: {{money payload.balanceAfter payload.currency}}{{/if}}\n\nNgati sindinu amene munachita izi, tiyimbireni foni nthawi yomweyo.',
    },
    sms: { text: 'Herald Bank: {{money payload.amount payload.currency}} {{> direction}} mu {{mask payload.accountNumber}} {{date timestamp}}.{{#if payload.balanceAfter}} Zotsala {{money payload.balanceAfter payload.currency}}.{{/if}}' },
  },
  'transaction.failed': {
    push: { title: 'Sizinatheke', body: 'Sitinakwanitse {{> directionNoun}} kwa {{money payload.amount payload.currency}} pa akaunti {{mask payload.accountNumber}}.{{#if payload.reason}} Chifukwa: {{payload.reason}}.{{/if}}' },
    sms: { text: 'Herald Bank: sitinakwanitse {{> directionNoun}} kwa {{money payload.amount payload.currency}} pa {{mask payload.accountNumber}} {{date timestamp}}.' },
  },
  'account.created': {
    push: { title: 'Akaunti yatsegulidwa', body: 'Akaunti yanu yatsopano {{mask payload.accountNumber}} yakonzeka.' },
    email: { subject: 'Akaunti yanu yatsopano {{mask payload.accountNumber}}', text: 'Takulandirani! Akaunti yanu ya {{payload.currency}} {{mask payload.accountNumber}} inatsegulidwa pa {{date timestamp}}.' },
  },
  'account.frozen': {
    push: { title: 'Akaunti yaimitsidwa', body: 'Akaunti {{mask payload.accountNumber}} yaimitsidwa. Ngati sindinu, tiyimbireni foni.' },
    email: { subject: 'Chofunika: akaunti {{mask payload.accountNumber}} yaimitsidwa', text: 'Akaunti {{mask payload.accountNumber}} inaimitsidwa pa {{date timestamp}}.{{#if payload.reason}}\nChifukwa: {{payload.reason}}{{/if}}\n\nNgati simunapemphe izi, tiyimbireni foni nthawi yomweyo.' },
    sms: { text: 'Herald Bank: akaunti {{mask payload.accountNumber}} YAIMITSIDWA {{date timestamp}}. Sindinu? Tiyimbireni tsopano.' },
  },
  'account.unfrozen': {
    push: { title: 'Akaunti ikugwiranso ntchito', body: 'Akaunti {{mask payload.accountNumber}} yayambiranso kugwira ntchito.' },
    email: { subject: 'Akaunti {{mask payload.accountNumber}} yatsegulidwanso', text: 'Akaunti {{mask payload.accountNumber}} inatsegulidwanso pa {{date timestamp}} ndipo mungathe kuigwiritsanso ntchito.' },
    sms: { text: 'Herald Bank: akaunti {{mask payload.accountNumber}} ikugwiranso ntchito ({{date timestamp}}).' },
  },
  'account.balance.low': {
    push: { title: 'Ndalama zochepa', body: 'Ndalama zotsala pa {{mask payload.accountNumber}} ndi {{money payload.balance payload.currency}}, pansi pa malire anu a {{money payload.threshold payload.currency}}.' },
    email: { subject: 'Ndalama zochepa pa akaunti {{mask payload.accountNumber}}', text: 'Ndalama zotsala pa akaunti {{mask payload.accountNumber}} ndi {{money payload.balance payload.currency}}, pansi pa malire a chenjezo anu a {{money payload.threshold payload.currency}} ({{date timestamp}}).' },
    sms: { text: 'Herald Bank: zotsala pa {{mask payload.accountNumber}} ndi {{money payload.balance payload.currency}}, pansi pa {{money payload.threshold payload.currency}}.' },
  },
  'checkbook.requested': {
    push: { title: 'Pempho la buku la macheke', body: 'Talandira pempho lanu la buku la macheke la akaunti {{mask payload.accountNumber}}.' },
    email: { subject: 'Pempho la buku la macheke {{payload.requestId}} lalandiridwa', text: 'Talandira pempho lanu la buku la macheke la akaunti {{mask payload.accountNumber}} pa {{date timestamp}}.{{#if payload.branch}} Nthambi yotengerako: {{payload.branch}}.{{/if}}' },
  },
  'checkbook.approved': {
    push: { title: 'Buku la macheke lavomerezedwa', body: 'Buku lanu la macheke la {{mask payload.accountNumber}} lavomerezedwa ndipo likusindikizidwa.' },
  },
  'checkbook.ready': {
    push: { title: 'Buku la macheke lakonzeka', body: 'Buku lanu la macheke la {{mask payload.accountNumber}} lakonzeka kuti mulitenge{{#if payload.branch}} ku {{payload.branch}}{{/if}}.' },
    sms: { text: 'Herald Bank: buku la macheke la {{mask payload.accountNumber}} lakonzeka{{#if payload.branch}} ku {{payload.branch}}{{/if}}. Bweretsani chiphaso chanu.' },
  },
  'checkbook.collected': {
    push: { title: 'Buku la macheke latengedwa', body: 'Buku lanu la macheke la {{mask payload.accountNumber}} linatengedwa pa {{date timestamp}}.' },
  },
  'checkbook.rejected': {
    push: { title: 'Pempho la buku la macheke lakanidwa', body: 'Pempho lanu la buku la macheke la {{mask payload.accountNumber}} lakanidwa.{{#if payload.reason}} {{payload.reason}}{{/if}}' },
    email: { subject: 'Pempho la buku la macheke {{payload.requestId}} lakanidwa', text: 'Pempho lanu la buku la macheke la akaunti {{mask payload.accountNumber}} linakanidwa pa {{date timestamp}}.{{#if payload.reason}}\nChifukwa: {{payload.reason}}{{/if}}' },
    sms: { text: 'Herald Bank: pempho la buku la macheke la {{mask payload.accountNumber}} lakanidwa. Pitani ku nthambi yanu kuti mudziwe zambiri.' },
  },
  'user.registered': {
    email: { subject: 'Takulandirani ku Herald Bank', text: 'Takulandirani! Mbiri yanu ya banki pa intaneti inapangidwa pa {{date timestamp}}. Tizikudziwitsani za zochitika pa maakaunti anu.' },
    sms: { text: 'Takulandirani ku Herald Bank! Mbiri yanu ya banki pa intaneti ikugwira ntchito.' },
  },
  'user.login': {
    push: { title: 'Mwalowa mu mbiri yanu', body: 'Mwalowa mu mbiri yanu{{#if payload.device}} pa {{payload.device}}{{/if}} pa {{date timestamp}}.' },
  },
  'user.login.failed': {
    push: { title: 'Kuyesa kulowa sikunatheke', body: 'Winawake walephera kulowa mu mbiri yanu{{#if payload.attempts}} (kuyesa {{payload.attempts}}){{/if}} pa {{date timestamp}}.' },
    email: { subject: 'Chenjezo la chitetezo: kulowa sikunatheke', text: 'Panali kuyesa kulowa mu mbiri yanu kumene sikunatheke pa {{date timestamp}}{{#if payload.device}} kuchokera pa {{payload.device}}{{/if}}{{#if payload.attempts}}, kuyesa {{payload.attempts}} motsatizana{{/if}}.\n\nNgati sindinu, sinthani mawu achinsinsi anu ndipo tiyimbireni foni.' },
    sms: { text: 'Herald Bank: wina walephera kulowa mu mbiri yanu {{date timestamp}}. Sindinu? Tiyimbireni tsopano.' },
  },
  'alert.triggered': {
    push: { title: 'Chenjezo la akaunti', body: '{{> alertSentence}}' },
    email: { subject: 'Chenjezo la akaunti{{#if payload.accountNumber}} {{mask payload.accountNumber}}{{/if}}', text: '{{> alertSentence}}\nNthawi: {{date timestamp}}.' },
    sms: { text: 'Herald Bank chenjezo: {{> alertSentence}}' },
  },
  },
};
