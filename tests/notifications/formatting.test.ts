import { describe, expect, it } from 'vitest';
import {
  formatAmount,
  formatDate,
  formatMoney,
  isValidTimeZone,
  maskAccount,
  maskEmail,
  maskPhone,
} from '../../lib/notifications/templates/formatting.js';

describe('formatAmount', () => {
  it.each([
    ['0', '0.00'],
    ['5', '5.00'],
    ['1250', '1,250.00'],
    ['1250.5', '1,250.50'],
    ['1250.50', '1,250.50'],
    ['999.99', '999.99'],
    ['1000000', '1,000,000.00'],
    ['0001234.10', '1,234.10'],
    ['12.3456', '12.3456'],
    ['12.3400', '12.34'],
  ])('%s → %s', (input, expected) => {
    expect(formatAmount(input)).toBe(expected);
  });

  it('never rounds through a float', () => {
    // Number("123456789012345.67") is 123456789012345.67 only by luck of printing; it is really …345.671875.
    expect(formatAmount('123456789012345.67')).toBe('123,456,789,012,345.67');
    expect(formatAmount('999999999999999.99')).toBe('999,999,999,999,999.99');
    expect(formatAmount('0.1')).toBe('0.10');
  });

  it('keeps the sign of negative amounts', () => {
    expect(formatAmount('-20.5')).toBe('-20.50');
    expect(formatAmount('-1234567.89')).toBe('-1,234,567.89');
    expect(formatMoney('-950.5', 'MWK')).toBe('MWK -950.50');
  });

  it('takes another group separator', () => {
    expect(formatAmount('1234567.8', ' ')).toBe('1 234 567.80');
  });

  it('formatMoney puts the ISO code first', () => {
    expect(formatMoney('1250', 'MWK')).toBe('MWK 1,250.00');
  });
});

describe('masking', () => {
  it('maskAccount keeps only the last four digits', () => {
    expect(maskAccount('0012009871234')).toBe('****1234');
    expect(maskAccount('123456')).toBe('****3456');
    expect(maskAccount('0012009871234')).not.toContain('001200987');
  });

  it('maskEmail keeps the first letter and the domain', () => {
    expect(maskEmail('chikondi.banda@example.mw')).toBe('c***@example.mw');
    expect(maskEmail('a@b.c')).toBe('a***@b.c');
    expect(maskEmail('no-at-sign')).toBe('n***@');
  });

  it('maskPhone keeps the country prefix and the last two digits', () => {
    expect(maskPhone('+265991234567')).toBe('+265****67');
    expect(maskPhone('+265991234567')).not.toContain('99123');
    expect(maskPhone('1234')).toBe('****');
    expect(maskPhone('')).toBe('****');
  });
});

describe('formatDate', () => {
  const iso = '2026-03-09T21:30:00Z';

  it('renders in the given time zone', () => {
    expect(formatDate(iso, 'Africa/Blantyre', 'en')).toBe('9 Mar 2026, 23:30 GMT+2');
    expect(formatDate(iso, 'UTC', 'en')).toBe('9 Mar 2026, 21:30 UTC');
    expect(formatDate(iso, 'Asia/Tokyo', 'en')).toBe('10 Mar 2026, 06:30 GMT+9');
  });

  it('falls back to UTC for an invalid or empty time zone', () => {
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(formatDate(iso, 'Mars/Olympus_Mons', 'en')).toBe(formatDate(iso, 'UTC', 'en'));
    expect(formatDate(iso, '', 'en')).toBe('9 Mar 2026, 21:30 UTC');
    expect(formatDate(iso, 'Mars/Olympus_Mons', 'ny')).toBe('9 Malichi 2026, 21:30 UTC');
  });

  it('gives each minute, zone and language its own text, also when the texts are reused', () => {
    // The same minute twice, then its neighbours, in zones and languages asked in turn.
    expect(formatDate('2026-03-09T21:30:05Z', 'UTC', 'en')).toBe('9 Mar 2026, 21:30 UTC');
    expect(formatDate('2026-03-09T21:30:59.999Z', 'UTC', 'en')).toBe('9 Mar 2026, 21:30 UTC');
    expect(formatDate('2026-03-09T21:31:00Z', 'UTC', 'en')).toBe('9 Mar 2026, 21:31 UTC');
    expect(formatDate('2026-03-09T21:30:05Z', 'Asia/Tokyo', 'en')).toBe('10 Mar 2026, 06:30 GMT+9');
    expect(formatDate('2026-03-09T21:30:05Z', 'UTC', 'ny')).toBe('9 Malichi 2026, 21:30 UTC');
    // A daylight-saving change falls on a minute boundary: the minutes either side differ.
    expect(formatDate('2026-03-29T00:59:30Z', 'Europe/London', 'en')).toBe('29 Mar 2026, 00:59 GMT');
    expect(formatDate('2026-03-29T01:00:00Z', 'Europe/London', 'en')).toBe('29 Mar 2026, 02:00 BST');
    expect(formatDate('2026-03-29T00:59:30Z', 'Europe/London', 'en')).toBe('29 Mar 2026, 00:59 GMT');
  });

  it('uses en-GB layout for unknown locales', () => {
    expect(formatDate(iso, 'UTC', 'fr')).toBe(formatDate(iso, 'UTC', 'en'));
  });

  it('uses Chichewa month names for ny, in the recipient time zone', () => {
    const months = [
      'Januwale', 'Febuluwale', 'Malichi', 'Epulo', 'Meyi', 'Juni',
      'Julai', 'Ogasiti', 'Seputembala', 'Okutobala', 'Novembala', 'Disembala',
    ];
    months.forEach((month, i) => {
      const mm = String(i + 1).padStart(2, '0');
      expect(formatDate(`2026-${mm}-15T10:00:00Z`, 'UTC', 'ny')).toBe(`15 ${month} 2026, 10:00 UTC`);
    });
    // 31 Dec 23:30 UTC is already 1 January (of the next year) in Blantyre.
    expect(formatDate('2026-12-31T23:30:00Z', 'Africa/Blantyre', 'ny')).toBe('1 Januwale 2027, 01:30 GMT+2');
    expect(formatDate('2026-12-31T23:30:00Z', 'UTC', 'ny')).toBe('31 Disembala 2026, 23:30 UTC');
  });

  it('writes midnight as 00, not 24', () => {
    expect(formatDate('2026-06-01T22:00:00Z', 'Africa/Blantyre', 'ny')).toBe('2 Juni 2026, 00:00 GMT+2');
    expect(formatDate('2026-06-01T22:00:00Z', 'Africa/Blantyre', 'en')).toBe('2 Jun 2026, 00:00 GMT+2');
  });
});
