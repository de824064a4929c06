/**
 * Formats a decimal string without ever converting it to a float: "1250.5" → "1,250.50".
 * Bank amounts can exceed what a double represents exactly.
 */
export function formatAmount(amount: string, separator = ','): string {
  const negative = amount.startsWith('-');
  const [whole = '0', fraction = ''] = amount.replace(/^-/, '').split('.');
  const grouped = whole.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, separator);
  const cents = (fraction + '00').slice(0, Math.max(2, fraction.replace(/0+$/, '').length));
  return `${negative ? '-' : ''}${grouped}.${cents}`;
}

export function formatMoney(amount: string, currency: string): string {
  return `${currency} ${formatAmount(amount)}`;
}

/** Only the last four digits of an account number ever leave Herald: ****1234. */
export function maskAccount(accountNumber: string): string {
  return `****${accountNumber.slice(-4)}`;
}

export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

export function maskPhone(phone: string): string {
  return phone.length <= 4 ? '****' : `${phone.slice(0, 4)}****${phone.slice(-2)}`;
}

const dateLocales: Record<string, string> = { en: 'en-GB' };

/**
 * Locales Node's Intl has no data for: the date is laid out like en-GB ("24 Nov 2026, 00:05 GMT+2")
 * from Intl's parts, with the month name taken from this table.
 */
const monthNames: Record<string, readonly string[]> = {
  ny: [
    'Januwale', 'Febuluwale', 'Malichi', 'Epulo', 'Meyi', 'Juni',
    'Julai', 'Ogasiti', 'Seputembala', 'Okutobala', 'Novembala', 'Disembala',
  ],
};

const dateOptions: Intl.DateTimeFormatOptions = {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
  timeZoneName: 'short',
};

// The text shows minutes, so it changes once a minute per zone and language, and the events of
// a burst share a handful of minutes: the texts recently made are reused instead of going
// through Intl for every message (it was the renderer's largest cost). Bounded: cleared when full.
const recentDates = new Map<string, string>();

/** A timestamp in the recipient's time zone (UTC when the zone is unknown), in the recipient's language. */
export function formatDate(iso: string, timeZone: string, locale: string): string {
  const minute = Math.floor(Date.parse(iso) / 60_000);
  if (Number.isNaN(minute)) return formatDateWithIntl(iso, timeZone, locale);
  const key = `${minute}|${timeZone}|${locale}`;
  let text = recentDates.get(key);
  if (text === undefined) {
    text = formatDateWithIntl(iso, timeZone, locale);
    if (recentDates.size >= 1_000) recentDates.clear();
    recentDates.set(key, text);
  }
  return text;
}

function formatDateWithIntl(iso: string, timeZone: string, locale: string): string {
  const date = new Date(iso);
  const tz = isValidTimeZone(timeZone) ? timeZone : 'UTC';
  const months = monthNames[locale];
  if (months) {
    const parts = formatter('en-GB', { ...dateOptions, month: 'numeric', timeZone: tz }).formatToParts(date);
    const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
    const month = months[Number(part('month')) - 1] ?? part('month');
    // With a numeric month en-GB pads the day ("09"); the en layout does not.
    return `${Number(part('day'))} ${month} ${part('year')}, ${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
  }
  return formatter(dateLocales[locale] ?? 'en-GB', { ...dateOptions, timeZone: tz }).format(date);
}

// Building an Intl.DateTimeFormat costs ~100 µs (the benchmark's top CPU item); formatting with
// a built one ~2 µs. The cache holds one per (locale, options, time zone): a bounded set.
const formatters = new Map<string, Intl.DateTimeFormat>();
const validZones = new Map<string, boolean>();

export function formatter(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let cached = formatters.get(key);
  if (!cached) {
    cached = new Intl.DateTimeFormat(locale, options);
    if (formatters.size < 10_000) formatters.set(key, cached);
  }
  return cached;
}

export function isValidTimeZone(timeZone: string): boolean {
  const known = validZones.get(timeZone);
  if (known !== undefined) return known;
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    if (validZones.size < 10_000) validZones.set(timeZone, true);
    return true;
  } catch {
    if (validZones.size < 10_000) validZones.set(timeZone, false);
    return false;
  }
}
