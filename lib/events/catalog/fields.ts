import { z } from 'zod';

/** Money travels as a decimal string, never a float: "1250.00". */
export const amount = z
  .string({ error: 'must be a decimal string such as "1250.00"' })
  .regex(/^\d{1,15}(\.\d{1,4})?$/, 'must be a non-negative decimal string such as "1250.00"');
export const signedAmount = z
  .string({ error: 'must be a decimal string such as "-20.50"' })
  .regex(/^-?\d{1,15}(\.\d{1,4})?$/, 'must be a decimal string such as "-20.50"');
export const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as "MWK"');
export const accountNumber = z
  .string({ error: 'must be a string of digits' })
  .regex(/^[0-9]{6,34}$/, 'must be 6 to 34 digits, as a string');
export const identifier = z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters');
export const text = (max = 500) => z.string().max(max, `must be at most ${max} characters`);
export const ip = z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' });
export const isoTimestamp = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 timestamp' });
