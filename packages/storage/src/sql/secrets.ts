// What every SQL dialect's SecretStore and AuditEventStore share: checks, compare-and-set decisions,
// cursors and row mapping. Dialects keep only SQL.
import type { AuditEvent, AuditEventInput, ListAuditEventsOptions } from '../audit';
import type { Page } from '../enrollment';
import { StorageError } from '../errors';
import { checkBytes, checkKey, type StorageLimits } from '../limits';
import { checkVersion, EVENT_ID_DIGITS, parseSecretCursor, secretCursor } from '../memory-secrets';
import type { ListSecretsOptions, PutSecretInput, SecretRecord } from '../secrets';
import { checkDate, pageSize } from '../validate';
import { asDate } from './dep';

/**
 * Checks an (owner, kind) key.
 *
 * @example
 * ```ts
 * checkSecretKey(DEFAULT_STORAGE_LIMITS, 'UDID-1', 'filevault-prk');
 * ```
 */
export function checkSecretKey(limits: StorageLimits, owner: unknown, kind: unknown): void {
  checkKey('secret owner', owner, limits.maxKeyLength);
  checkKey('secret kind', kind, limits.maxKeyLength);
}

/**
 * Checks a `putSecret` input: key, non-empty sealed bytes within the blob limit, version.
 *
 * @example
 * ```ts
 * checkPutSecret(DEFAULT_STORAGE_LIMITS, { owner: 'UDID-1', kind: 'filevault-prk', sealed, expectedVersion: 0 });
 * ```
 */
export function checkPutSecret(limits: StorageLimits, input: PutSecretInput): void {
  checkSecretKey(limits, input?.owner, input?.kind);
  if (!(input.sealed instanceof Uint8Array) || input.sealed.length === 0) {
    throw new StorageError('INVALID_INPUT', 'sealed must be non-empty bytes');
  }
  checkBytes('sealed secret', input.sealed, limits.maxBlobBytes);
  checkVersion(input.expectedVersion);
}

export { checkVersion as checkExpectedVersion };

/**
 * The CONFLICT error of a compare-and-set that found another version.
 *
 * @example
 * ```ts
 * throw secretConflict('UDID-1', 'filevault-prk', 2, 1);
 * ```
 */
export function secretConflict(owner: string, kind: string, actual: number, expected: number): StorageError {
  return new StorageError('CONFLICT', `secret ${kind} of ${owner} is at version ${actual}, not ${expected}`);
}

/** A `secrets` row as drivers return it. */
export interface SecretRow {
  owner: unknown;
  kind: unknown;
  sealed: unknown;
  version: unknown;
  created_at: unknown;
  updated_at: unknown;
}

/** The columns of a secret row, in {@link SecretRow} order. */
export const secretColumns = 'owner, kind, sealed, version, created_at, updated_at';

/**
 * A secret row as a record.
 *
 * @example
 * ```ts
 * const rec = toSecret(row);
 * ```
 */
export function toSecret(row: SecretRow): SecretRecord {
  return {
    owner: String(row.owner),
    kind: String(row.kind),
    sealed: new Uint8Array(row.sealed as Uint8Array),
    version: Number(row.version),
    createdAt: asDate(row.created_at)!,
    updatedAt: asDate(row.updated_at)!,
  };
}

/**
 * The checked parameters of `listSecrets`: filters and the (owner, kind) after which to start, each
 * null when absent, and the page size.
 *
 * @example
 * ```ts
 * secretListQuery(DEFAULT_STORAGE_LIMITS, { owner: 'UDID-1' });
 * ```
 */
export function secretListQuery(
  limits: StorageLimits,
  options: ListSecretsOptions = {},
): {
  owner: string | null;
  kind: string | null;
  afterOwner: string | null;
  afterKind: string | null;
  limit: number;
} {
  if (options.owner !== undefined) checkKey('secret owner', options.owner, limits.maxKeyLength);
  if (options.kind !== undefined) checkKey('secret kind', options.kind, limits.maxKeyLength);
  const after = parseSecretCursor(options.after);
  return {
    owner: options.owner ?? null,
    kind: options.kind ?? null,
    afterOwner: after?.[0] ?? null,
    afterKind: after?.[1] ?? null,
    limit: pageSize(options),
  };
}

/**
 * A page of secrets from `limit + 1` rows in (owner, kind) order.
 *
 * @example
 * ```ts
 * const page = secretPage(rows, 100);
 * ```
 */
export function secretPage(rows: readonly SecretRow[], limit: number): Page<SecretRecord> {
  const items = rows.slice(0, limit).map(toSecret);
  const last = items.at(-1);
  return rows.length > limit && last ? { items, next: secretCursor(last.owner, last.kind) } : { items };
}

/**
 * Checks an audit event and fills in its time.
 *
 * @example
 * ```ts
 * const ev = checkAuditEvent(DEFAULT_STORAGE_LIMITS, { actor: 'alice', action: 'secret.read', owner: 'U', kind: 'k', reason: 'why' });
 * ```
 */
export function checkAuditEvent(limits: StorageLimits, event: AuditEventInput): Required<AuditEventInput> {
  for (const k of ['actor', 'action', 'owner', 'kind'] as const) {
    checkKey(`audit ${k}`, event?.[k], limits.maxKeyLength);
  }
  if (typeof event.reason !== 'string' || event.reason.trim() === '') {
    throw new StorageError('INVALID_INPUT', 'audit reason must be a non-empty string');
  }
  checkBytes('audit reason', new TextEncoder().encode(event.reason), limits.maxBlobBytes);
  checkDate('audit time', event.at, true);
  return {
    actor: event.actor,
    action: event.action,
    owner: event.owner,
    kind: event.kind,
    reason: event.reason,
    at: new Date(event.at ?? Date.now()),
  };
}

/** An `audit_events` row as drivers return it. */
export interface AuditRow {
  id: unknown;
  actor: unknown;
  action: unknown;
  owner: unknown;
  kind: unknown;
  reason: unknown;
  at: unknown;
}

/** The columns of an audit row. */
export const auditColumns = 'id, actor, action, owner, kind, reason, at';

/**
 * An event id as the store hands it out: the row's sequence number, zero-padded so that string
 * order is append order, as in the in-memory store.
 *
 * @example
 * ```ts
 * auditId(7); // '0000000000000007'
 * ```
 */
export function auditId(n: unknown): string {
  return String(n).padStart(EVENT_ID_DIGITS, '0');
}

/**
 * An audit row as an event.
 *
 * @example
 * ```ts
 * const ev = toAuditEvent(row);
 * ```
 */
export function toAuditEvent(row: AuditRow): AuditEvent {
  return {
    id: auditId(row.id),
    actor: String(row.actor),
    action: String(row.action),
    owner: String(row.owner),
    kind: String(row.kind),
    reason: String(row.reason),
    at: asDate(row.at)!,
  };
}

/**
 * The checked parameters of `listAuditEvents`. `after` is compared as the in-memory store compares
 * ids (as strings of 16 digits): any string maps to the last sequence number not after it.
 *
 * @example
 * ```ts
 * auditListQuery({ after: '0000000000000007' }).afterId; // 7
 * ```
 */
export function auditListQuery(options: ListAuditEventsOptions = {}): {
  afterId: number;
  owner: string | null;
  actor: string | null;
  limit: number;
} {
  if (options.after !== undefined && typeof options.after !== 'string')
    throw new StorageError('INVALID_INPUT', 'after must be a string');
  for (const k of ['owner', 'actor'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'string')
      throw new StorageError('INVALID_INPUT', `${k} must be a string`);
  }
  return {
    afterId: options.after === undefined ? 0 : lastIdNotAfter(options.after),
    owner: options.owner ?? null,
    actor: options.actor ?? null,
    limit: pageSize(options),
  };
}

/** The greatest n ≥ 0 whose padded id is ≤ `after` in string order (ids > after are then id > n). */
function lastIdNotAfter(after: string): number {
  if (/^\d{16}/.test(after)) return Number(after.slice(0, EVENT_ID_DIGITS));
  // Another string: the padded ids below it are those whose 16 digits sort before it.
  const digits = after.slice(0, EVENT_ID_DIGITS);
  let prefix = '';
  for (const c of digits) {
    if (c >= '0' && c <= '9') prefix += c;
    else {
      // the first non-digit decides: above '9' every id with this prefix sorts lower, below '0' none
      const n =
        c > '9'
          ? Number(prefix + '9'.repeat(EVENT_ID_DIGITS - prefix.length) || '0')
          : Number(prefix ? prefix + '0'.repeat(EVENT_ID_DIGITS - prefix.length) : '0') - 1;
      return Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, n));
    }
  }
  // all digits but shorter than 16: ids with this prefix sort after it
  return Math.max(0, Number(prefix.padEnd(EVENT_ID_DIGITS, '0')) - 1);
}

/**
 * A page of events from `limit + 1` rows in id order.
 *
 * @example
 * ```ts
 * const page = auditPage(rows, 100);
 * ```
 */
export function auditPage(rows: readonly AuditRow[], limit: number): Page<AuditEvent> {
  const items = rows.slice(0, limit).map(toAuditEvent);
  const last = items.at(-1);
  return rows.length > limit && last ? { items, next: last.id } : { items };
}
