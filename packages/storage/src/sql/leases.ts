// Input checks of the lease and job-state operations, the same in every dialect.
import { StorageError } from '../errors';
import type { Lease } from '../lease';
import { checkKey, type StorageLimits } from '../limits';
import { date } from './values';

/**
 * Throws INVALID_INPUT unless `ttlMs` is a positive finite number.
 *
 * @example
 * ```ts
 * checkTtl(30_000); // 30000
 * ```
 */
export function checkTtl(ttlMs: unknown): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new StorageError('INVALID_INPUT', 'ttlMs must be a positive number');
  }
  return ttlMs;
}

/**
 * Throws INVALID_INPUT unless `token` is a non-negative safe integer.
 *
 * @example
 * ```ts
 * checkToken(lease.token);
 * ```
 */
export function checkToken(token: unknown): number {
  if (typeof token !== 'number' || !Number.isSafeInteger(token) || token < 0) {
    throw new StorageError('INVALID_INPUT', 'token must be a non-negative integer');
  }
  return token;
}

/**
 * Checks a lease handed back by the caller (renew, release); with `ttlMs`, also the new ttl and `now`.
 * Returns the new expiry when `ttlMs` is given.
 *
 * @example
 * ```ts
 * const expiresAt = checkLease(ctx.limits, lease, { ttlMs: 30_000, now: new Date() });
 * ```
 */
export function checkLease(
  limits: StorageLimits,
  lease: Lease,
  renew?: { ttlMs: number; now: Date },
): Date | undefined {
  if (typeof lease !== 'object' || lease === null)
    throw new StorageError('INVALID_INPUT', 'lease must be an object');
  checkKey('lease name', lease.name, limits.maxKeyLength);
  if (renew) checkKey('holder', lease.holder, limits.maxKeyLength);
  checkToken(lease.token);
  if (!renew) return undefined;
  checkTtl(renew.ttlMs);
  date('now', renew.now);
  return new Date(renew.now.getTime() + renew.ttlMs);
}

/**
 * Checks an acquire and returns the expiry a won lease gets.
 *
 * @example
 * ```ts
 * const expiresAt = checkAcquire(ctx.limits, 'dep-sync', 'replica-1', 30_000, new Date());
 * ```
 */
export function checkAcquire(
  limits: StorageLimits,
  name: string,
  holder: string,
  ttlMs: number,
  now: Date,
): Date {
  checkKey('lease name', name, limits.maxKeyLength);
  checkKey('holder', holder, limits.maxKeyLength);
  checkTtl(ttlMs);
  date('now', now);
  return new Date(now.getTime() + ttlMs);
}

/**
 * The acquire decision under the row lock: undefined while another holder's lease is live; otherwise
 * the lease, with the same token when `holder` already held it and a new one when it was free.
 *
 * @example
 * ```ts
 * const won = decideAcquire(lockedRow, 'dep-sync', 'replica-1', now, expiresAt);
 * ```
 */
export function decideAcquire(
  row: { holder: string | null; token: number | string; expires_at: Date },
  name: string,
  holder: string,
  now: Date,
  expiresAt: Date,
): Lease | undefined {
  const live = row.holder !== null && row.expires_at.getTime() > now.getTime();
  if (live && row.holder !== holder) return undefined;
  const token = live ? Number(row.token) : Number(row.token) + 1;
  return { name, holder, token, expiresAt };
}
