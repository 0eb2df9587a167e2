// Checks and row mapping shared by the in-memory store and every SQL dialect of the lifecycle stores
// (declaration sets, DDM status, identity certificates, blocks), so all of them refuse the same input.
import type { EnrollmentId, Page } from './enrollment';
import { StorageError } from './errors';
import type {
  DdmStatusRecord,
  DeclarationSetRecord,
  EnrollmentBlockRecord,
  IdentityCertificateRecord,
  IdentityTrust,
} from './lifecycle';
import { checkBytes, checkKey, type StorageLimits } from './limits';
import { checkDate } from './validate';

/** Largest declaration-set JSON and DDM status report, in bytes: DDM documents are small. */
export const MAX_DDM_DOCUMENT_BYTES = 4 * 1024 * 1024;
/** Most enrollments one assign/unassign call names. */
export const MAX_ASSIGN_IDS = 10_000;

const HASH = /^[0-9a-f]{64}$/;
const encoder = new TextEncoder();

/**
 * Checks a set name and its declarations JSON (must parse to an array).
 *
 * @example
 * ```ts
 * checkDeclarationSet(DEFAULT_STORAGE_LIMITS, 'group:finance', '[]');
 * ```
 */
export function checkDeclarationSet(limits: StorageLimits, name: unknown, json: unknown, at?: unknown): void {
  checkKey('declaration set name', name, limits.maxKeyLength);
  checkDdmJson('declarations', json);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json as string);
  } catch (e) {
    throw new StorageError('INVALID_INPUT', 'declarations is not JSON', { cause: e });
  }
  if (!Array.isArray(parsed)) throw new StorageError('INVALID_INPUT', 'declarations must be a JSON array');
  checkDate('declaration set time', at, true);
}

function checkDdmJson(what: string, json: unknown): void {
  if (typeof json !== 'string') throw new StorageError('INVALID_INPUT', `${what} must be a string`);
  checkBytes(what, encoder.encode(json), MAX_DDM_DOCUMENT_BYTES);
}

/**
 * Checks the enrollment ids of an assignment call; returns them without duplicates.
 *
 * @example
 * ```ts
 * checkAssignment(DEFAULT_STORAGE_LIMITS, 'group:finance', ['UDID-1']); // ['UDID-1']
 * ```
 */
export function checkAssignment(limits: StorageLimits, name: unknown, ids: unknown): EnrollmentId[] {
  checkKey('declaration set name', name, limits.maxKeyLength);
  if (!Array.isArray(ids)) throw new StorageError('INVALID_INPUT', 'enrollmentIds must be an array');
  if (ids.length > MAX_ASSIGN_IDS) {
    throw new StorageError('PAYLOAD_TOO_LARGE', `at most ${MAX_ASSIGN_IDS} enrollments per call`);
  }
  for (const id of ids) checkKey('enrollment id', id, limits.maxKeyLength);
  return [...new Set(ids as string[])];
}

/**
 * Checks a DDM status append.
 *
 * @example
 * ```ts
 * checkDdmStatus(DEFAULT_STORAGE_LIMITS, 'UDID-1', '{}');
 * ```
 */
export function checkDdmStatus(limits: StorageLimits, id: unknown, report: unknown, at?: unknown): void {
  checkKey('enrollment id', id, limits.maxKeyLength);
  checkDdmJson('status report', report);
  checkDate('status time', at, true);
}

/**
 * Checks an identity-certificate record.
 *
 * @example
 * ```ts
 * checkIdentityCertificate(DEFAULT_STORAGE_LIMITS, { hash, enrollmentId: 'UDID-1', notAfter, trust: 'issued' });
 * ```
 */
export function checkIdentityCertificate(limits: StorageLimits, r: IdentityCertificateRecord): void {
  checkCertHash(r?.hash);
  checkKey('enrollment id', r.enrollmentId, limits.maxKeyLength);
  checkDate('notAfter', r.notAfter);
  checkDate('retireAt', r.retireAt, true);
  if (r.trust !== 'issued' && r.trust !== 'migrated') {
    throw new StorageError('INVALID_INPUT', "trust must be 'issued' or 'migrated'");
  }
}

/**
 * Checks the arguments of `retireIdentityCertificates`.
 *
 * @example
 * ```ts
 * checkRetire(DEFAULT_STORAGE_LIMITS, 'UDID-1', hash, new Date());
 * ```
 */
export function checkRetire(
  limits: StorageLimits,
  enrollmentId: unknown,
  keepHash: unknown,
  at: unknown,
): void {
  checkKey('enrollment id', enrollmentId, limits.maxKeyLength);
  checkCertHash(keepHash);
  checkDate('retireAt', at);
}

/**
 * Throws INVALID_INPUT unless `hash` is lowercase hex SHA-256.
 *
 * @example
 * ```ts
 * checkCertHash('ab'.repeat(32));
 * ```
 */
export function checkCertHash(hash: unknown): asserts hash is string {
  if (typeof hash !== 'string' || !HASH.test(hash)) {
    throw new StorageError('INVALID_INPUT', 'certificate hash must be 64 lowercase hex digits');
  }
}

/**
 * Checks a block and fills in its time.
 *
 * @example
 * ```ts
 * checkBlock(DEFAULT_STORAGE_LIMITS, { enrollmentId: 'UDID-1', actor: 'alice', reason: 'stolen' });
 * ```
 */
export function checkBlock(
  limits: StorageLimits,
  input: { enrollmentId: EnrollmentId; actor: string; reason: string; at?: Date },
): EnrollmentBlockRecord {
  checkKey('enrollment id', input?.enrollmentId, limits.maxKeyLength);
  checkKey('block actor', input.actor, limits.maxKeyLength);
  if (typeof input.reason !== 'string' || input.reason.trim() === '') {
    throw new StorageError('INVALID_INPUT', 'block reason must be a non-empty string');
  }
  checkBytes('block reason', encoder.encode(input.reason), limits.maxBlobBytes);
  checkDate('block time', input.at, true);
  return {
    enrollmentId: input.enrollmentId,
    actor: input.actor,
    reason: input.reason,
    blockedAt: new Date(input.at ?? Date.now()),
  };
}

/**
 * Reads an integer cursor (`after`) of the DDM status history; undefined when absent.
 *
 * @example
 * ```ts
 * statusCursor('42'); // 42
 * ```
 */
export function statusCursor(after: unknown): number | undefined {
  if (after === undefined) return undefined;
  if (typeof after !== 'string' || !/^\d{1,15}$/.test(after)) {
    throw new StorageError('INVALID_INPUT', 'after is not a cursor returned by listDdmStatus');
  }
  return Number(after);
}

const asDate = (v: unknown): Date =>
  v instanceof Date
    ? new Date(v.getTime())
    : new Date(typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : (v as number));

/** A `declaration_sets` row as drivers return it. */
export interface DeclarationSetRow {
  name: unknown;
  declarations: unknown;
  updated_at: unknown;
}

/** The columns of a declaration-set row. */
export const declarationSetColumns = 'name, declarations, updated_at';

/**
 * A declaration-set row as a record.
 *
 * @example
 * ```ts
 * const set = toDeclarationSet(row);
 * ```
 */
export function toDeclarationSet(row: DeclarationSetRow): DeclarationSetRecord {
  return {
    name: String(row.name),
    declarations: String(row.declarations),
    updatedAt: asDate(row.updated_at),
  };
}

/** A `ddm_status` row as drivers return it. */
export interface DdmStatusRow {
  id: unknown;
  enrollment_id: unknown;
  report: unknown;
  received_at: unknown;
}

/** The columns of a DDM status row. */
export const ddmStatusColumns = 'id, enrollment_id, report, received_at';

/**
 * A page of status reports from `limit + 1` rows, newest first.
 *
 * @example
 * ```ts
 * const page = ddmStatusPage(rows, 100);
 * ```
 */
export function ddmStatusPage(rows: readonly DdmStatusRow[], limit: number): Page<DdmStatusRecord> {
  const items = rows.slice(0, limit).map((r) => ({
    id: String(r.id),
    enrollmentId: String(r.enrollment_id),
    report: String(r.report),
    receivedAt: asDate(r.received_at),
  }));
  const last = items.at(-1);
  return rows.length > limit && last ? { items, next: last.id } : { items };
}

/** An `identity_certificates` row as drivers return it. */
export interface IdentityCertificateRow {
  hash: unknown;
  enrollment_id: unknown;
  not_after: unknown;
  trust: unknown;
  retire_at: unknown;
}

/** The columns of an identity-certificate row. */
export const identityCertificateColumns = 'hash, enrollment_id, not_after, trust, retire_at';

/**
 * An identity-certificate row as a record.
 *
 * @example
 * ```ts
 * const rec = toIdentityCertificate(row);
 * ```
 */
export function toIdentityCertificate(row: IdentityCertificateRow): IdentityCertificateRecord {
  const r: IdentityCertificateRecord = {
    hash: String(row.hash),
    enrollmentId: String(row.enrollment_id),
    notAfter: asDate(row.not_after),
    trust: String(row.trust) as IdentityTrust,
  };
  if (row.retire_at !== null && row.retire_at !== undefined) r.retireAt = asDate(row.retire_at);
  return r;
}

/**
 * A page of records keyed by `key` from `limit + 1` rows.
 *
 * @example
 * ```ts
 * keyedPage(['a', 'b', 'c'], 2, (id) => id); // { items: ['a', 'b'], next: 'b' }
 * ```
 */
export function keyedPage<T>(items: readonly T[], limit: number, key: (t: T) => string): Page<T> {
  const page = items.slice(0, limit);
  const last = page.at(-1);
  return items.length > limit && last !== undefined ? { items: page, next: key(last) } : { items: page };
}

/** An `enrollment_blocks` row as drivers return it. */
export interface BlockRow {
  enrollment_id: unknown;
  actor: unknown;
  reason: unknown;
  blocked_at: unknown;
}

/** The columns of a block row. */
export const blockColumns = 'enrollment_id, actor, reason, blocked_at';

/**
 * A block row as a record.
 *
 * @example
 * ```ts
 * const block = toBlock(row);
 * ```
 */
export function toBlock(row: BlockRow): EnrollmentBlockRecord {
  return {
    enrollmentId: String(row.enrollment_id),
    actor: String(row.actor),
    reason: String(row.reason),
    blockedAt: asDate(row.blocked_at),
  };
}
