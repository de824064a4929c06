/** Masks contact details in anything the API returns: a bank never echoes them in full. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

export function maskPhone(phone: string): string {
  const digits = phone.replace(/[^\d+]/g, '');
  if (digits.length <= 4) return '****';
  return `${digits.startsWith('+') ? '+' : ''}${'*'.repeat(Math.max(digits.length - 5, 3))}${digits.slice(-4)}`;
}

const emailPattern = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const phonePattern = /\+[1-9]\d{7,14}\b/g;
const contactKeys = new Set(['email', 'phone', 'to', 'recipient', 'msisdn']);

/**
 * Deep copy with every e-mail address and E.164 number masked, wherever it appears
 * (provider responses, error texts, payloads of user.registered).
 */
export function maskPii<T>(value: T): T {
  return walk(value, undefined) as T;
}

function walk(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') {
    if (key && contactKeys.has(key)) {
      if (value.includes('@')) return maskEmail(value);
      if (/^\+?\d[\d\s-]{6,}$/.test(value)) return maskPhone(value);
    }
    return value.replace(emailPattern, maskEmail).replace(phonePattern, maskPhone);
  }
  if (Array.isArray(value)) return value.map((v) => walk(v, key));
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, k);
    return out;
  }
  return value;
}
