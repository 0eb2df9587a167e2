import type { EnrollmentExport, EnrollmentRecord, Page, PageOptions } from '../enrollment';
import { StorageError } from '../errors';
import { checkBytes, checkKey, type StorageLimits } from '../limits';
import { type EnrollmentRow, toEnrollment } from './rows';
import { bytes, date, pageLimit } from './values';

/** An import checked and ordered for insertion. */
export interface PreparedImport {
  /** One item per id (the last occurrence wins), ascending by id so concurrent imports lock rows in one order. */
  readonly items: EnrollmentExport[];
  /** Certificate hash → enrollment id. */
  readonly owners: ReadonlyMap<string, string>;
  /** The hashes, ascending. */
  readonly hashes: string[];
}

/**
 * Validates an `importEnrollments` batch (same codes in every adapter) and returns what the dialect writes.
 *
 * @example
 * ```ts
 * const { items, hashes, owners } = prepareImport(ctx.limits, batch);
 * ```
 */
export function prepareImport(limits: StorageLimits, items: EnrollmentExport[]): PreparedImport {
  if (!Array.isArray(items)) throw new StorageError('INVALID_INPUT', 'items must be an array');
  for (const item of items) {
    const e = item?.enrollment;
    checkKey('enrollment id', e?.id, limits.maxKeyLength);
    checkKey('deviceId', e.deviceId, limits.maxKeyLength);
    if (e.channel !== 'device' && e.channel !== 'user') {
      throw new StorageError('INVALID_INPUT', `channel must be 'device' or 'user'`);
    }
    checkBytes('bootstrap token', item.bootstrapToken, limits.maxBlobBytes);
    checkBytes('unlockToken', e.unlockToken, limits.maxBlobBytes);
    date('createdAt', e.createdAt);
    date('updatedAt', e.updatedAt);
    if (!Array.isArray(item.certificateHashes)) {
      throw new StorageError('INVALID_INPUT', 'certificateHashes must be an array');
    }
    for (const h of item.certificateHashes) checkKey('certificate hash', h, limits.maxKeyLength);
  }
  const byId = new Map(items.map((item) => [item.enrollment.id, item]));
  const sorted = [...byId.values()].sort((a, b) => (a.enrollment.id < b.enrollment.id ? -1 : 1));
  const owners = new Map<string, string>();
  for (const item of sorted) {
    for (const hash of item.certificateHashes) {
      const other = owners.get(hash);
      if (other !== undefined && other !== item.enrollment.id) {
        throw new StorageError('CONFLICT', 'one certificate hash is listed for two enrollments');
      }
      owners.set(hash, item.enrollment.id);
    }
  }
  return { items: sorted, owners, hashes: [...owners.keys()].sort() };
}

/**
 * The CONFLICT every adapter throws when a hash is already bound to another enrollment.
 *
 * @example
 * ```ts
 * if (owner !== id) throw certificateTaken();
 * ```
 */
export function certificateTaken(): StorageError {
  return new StorageError('CONFLICT', 'certificate is already associated with another enrollment');
}

/**
 * The `after` cursor of a paged export: null for the first page, INVALID_INPUT unless a string.
 *
 * @example
 * ```ts
 * exportCursor({}); // null
 * ```
 */
export function exportCursor(options: PageOptions): string | null {
  const after = options.after ?? null;
  if (after !== null && typeof after !== 'string')
    throw new StorageError('INVALID_INPUT', 'after must be a string');
  return after;
}

/**
 * One export page from `limit + 1` rows read in id order: the extra row only says that a next page exists.
 *
 * @example
 * ```ts
 * const page = exportPage(rows, limit, toEnrollment, (r) => r.hashes);
 * ```
 */
export function exportPage<R extends { bootstrap_token: Uint8Array | null }>(
  rows: readonly R[],
  limit: number,
  toEnrollment: (row: R) => EnrollmentRecord,
  hashesOf: (row: R, enrollment: EnrollmentRecord) => string[],
): Page<EnrollmentExport> {
  const items = rows.slice(0, limit).map((r) => {
    const enrollment = toEnrollment(r);
    const item: EnrollmentExport = { enrollment, certificateHashes: hashesOf(r, enrollment) };
    if (r.bootstrap_token !== null) item.bootstrapToken = bytes(r.bootstrap_token);
    return item;
  });
  const page: Page<EnrollmentExport> = { items };
  if (rows.length > limit) page.next = items[items.length - 1]!.enrollment.id;
  return page;
}

/** An export row: an enrollment row with its bootstrap token. */
export type ExportRow = EnrollmentRow & { bootstrap_token: Uint8Array | null };

/**
 * One export page on a dialect's queries: `read` returns up to `rows` rows after the cursor (null
 * for the first page) in id order; `hashesOf` gives, for the rows of the page, each one's
 * certificate hashes in ascending order (a dialect that reads them in the same query looks them up
 * on the row).
 *
 * @example
 * ```ts
 * return exportWith(options, readRows, async () => (r) => r.hashes);
 * ```
 */
export async function exportWith<R extends ExportRow>(
  options: PageOptions,
  read: (after: string | null, rows: number) => Promise<R[]>,
  hashesOf: (page: readonly R[]) => Promise<(row: R) => string[]>,
): Promise<Page<EnrollmentExport>> {
  const limit = pageLimit(options.limit);
  const rows = await read(exportCursor(options), limit + 1);
  const hashes = await hashesOf(rows.slice(0, limit));
  return exportPage(rows, limit, toEnrollment, hashes);
}
