import { StorageError, type StorageLimits } from '@mdmkit/storage';
import type { MyDatabase } from './pool';

/** What every operation module needs: the pool, limits and the coalescing state. */
export interface Ctx {
  readonly db: MyDatabase;
  readonly limits: StorageLimits;
  readonly lastSeenIntervalMs: number;
  /** Enrollment id → last-seen time this process last wrote (ms), to skip redundant writes without a query. */
  readonly lastSeenWritten: Map<string, number>;
}

/** BLOBs come back as Node Buffers; hand out plain, independent Uint8Arrays. */
export function bytes(b: Uint8Array): Uint8Array;
export function bytes(b: Uint8Array | null | undefined): Uint8Array | undefined;
export function bytes(b: Uint8Array | null | undefined): Uint8Array | undefined {
  return b == null ? undefined : new Uint8Array(b);
}

/** Throws INVALID_INPUT unless `d` is a valid Date; returns it. */
export function date(what: string, d: unknown): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw new StorageError('INVALID_INPUT', `${what} must be a valid Date`);
  }
  return d;
}

/** `d` checked as a Date, or undefined. */
export function optionalDate(what: string, d: unknown): Date | undefined {
  return d === undefined || d === null ? undefined : date(what, d);
}

/** Optional string field: INVALID_INPUT unless a string within the key length limit. */
export function optionalText(
  ctx: Ctx,
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

/** Clamps a requested page size into 1..1000 (default 100), like every adapter. */
export function pageLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isFinite(limit)) return 100;
  return Math.max(1, Math.min(1000, Math.floor(limit)));
}
