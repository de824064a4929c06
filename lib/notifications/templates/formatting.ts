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

export function formatDate(iso: string, timeZone: string, locale: string): string {
  const date = new Date(iso);
  const tz = isValidTimeZone(timeZone) ? timeZone : 'UTC';
  return new Intl.DateTimeFormat(dateLocales[locale] ?? 'en-GB', {
    timeZone: tz,
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
    timeZoneName: 'short',
  }).format(date);
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}
