// Value conversions and checks every SQL dialect applies the same way to what it reads and writes.
import type { StorageLimits } from '../limits';
import { StorageError } from '../errors';
import { checkDate, pageSize } from '../validate';

/**
 * Drivers hand binary columns back as Node Buffers that may share a pooled ArrayBuffer; hand out
 * plain, independent Uint8Arrays instead.
 *
 * @example
 * ```ts
 * bytes(Buffer.from('ab')); // Uint8Array [0x61, 0x62]
 * ```
 */
export function bytes(b: Uint8Array): Uint8Array;
export function bytes(b: Uint8Array | null | undefined): Uint8Array | undefined;
export function bytes(b: Uint8Array | null | undefined): Uint8Array | undefined {
  return b == null ? undefined : new Uint8Array(b);
}

/**
 * Throws INVALID_INPUT unless `d` is a valid Date; returns it.
 *
 * @example
 * ```ts
 * date('expiresAt', new Date(0)); // the same Date
 * ```
 */
export function date(what: string, d: unknown): Date {
  checkDate(what, d);
  return d as Date;
}

/**
 * `d` checked as a Date, or undefined when absent.
 *
 * @example
 * ```ts
 * optionalDate('notBefore', undefined); // undefined
 * ```
 */
export function optionalDate(what: string, d: unknown): Date | undefined {
  return d === undefined || d === null ? undefined : date(what, d);
}

/**
 * An optional string field: null when absent, INVALID_INPUT when not a string, PAYLOAD_TOO_LARGE
 * past `max` characters.
 *
 * @example
 * ```ts
 * optionalText({ limits: DEFAULT_STORAGE_LIMITS }, 'serial number', 'C02X'); // 'C02X'
 * ```
 */
export function optionalText(
  ctx: { readonly limits: StorageLimits },
  what: string,
  s: unknown,
  max = ctx.limits.maxKeyLength,
): string | null {
  if (s === undefined || s === null) return null;
  if (typeof s !== 'string') throw new StorageError('INVALID_INPUT', `${what} must be a string`);
  if (s.length > max) {
    throw new StorageError('PAYLOAD_TOO_LARGE', `${what} is ${s.length} characters; the limit is ${max}`);
  }
  return s;
}

/**
 * A requested page size clamped into 1..1000 (default 100), as in every adapter.
 *
 * @example
 * ```ts
 * pageLimit(5000); // 1000
 * ```
 */
export function pageLimit(limit: unknown): number {
  return pageSize({ limit: typeof limit === 'number' ? limit : undefined });
}
