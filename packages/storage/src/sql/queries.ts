// The enrollment queries' decisions for every SQL dialect: which filters are valid, what each one
// means and how a page is cut. A dialect hands in only its placeholders and its idioms for a key
// list, a prefix match and a boolean.
import type { EnrollmentRecord, Page } from '../enrollment';
import { StorageError } from '../errors';
import { checkKey, type StorageLimits } from '../limits';
import type { EnrollmentFilter, PushInfo } from '../queries';
import { type EnrollmentRow, pageOf, toEnrollment } from './rows';
import { date, pageLimit } from './values';

/** A dialect's SQL for the parts of an enrollment filter that differ between databases. */
export interface EnrollmentFilterSql {
  /** Binds a value; returns its placeholder. */
  param(value: unknown): string;
  /** `id` is one of `ids` (never empty). */
  idIn(ids: string[]): string;
  /** `id` starts with `prefix` (taken literally: the dialect escapes its pattern characters). */
  idStartsWith(prefix: string): string;
  /** `enabled` is `value`. */
  enabledIs(value: boolean): string;
}

/**
 * Lists enrollments matching `filter`, ordered by id: checks the filter, builds the WHERE clause
 * from the dialect's pieces and cuts the page. `read` runs the SELECT of {@link enrollmentColumns}
 * with that clause (empty for no filter), reading `rows` rows at most.
 *
 * @example
 * ```ts
 * return listEnrollmentsWith(ctx.limits, filter, sql, (where, rows) => select(where, rows));
 * ```
 */
export async function listEnrollmentsWith(
  limits: StorageLimits,
  filter: EnrollmentFilter,
  sql: EnrollmentFilterSql,
  read: (where: string, rows: number) => Promise<EnrollmentRow[]>,
): Promise<Page<EnrollmentRecord>> {
  if (typeof filter !== 'object' || filter === null)
    throw new StorageError('INVALID_INPUT', 'filter must be an object');
  const where: string[] = [];
  // An empty id list matches nothing, but the rest of the filter is still checked first: a malformed
  // filter is refused the same whatever the ids.
  let none = false;
  if (filter.ids !== undefined) {
    if (!Array.isArray(filter.ids)) throw new StorageError('INVALID_INPUT', 'ids must be an array');
    for (const id of filter.ids) checkKey('enrollment id', id, limits.maxKeyLength);
    if (filter.ids.length === 0) none = true;
    else where.push(sql.idIn(filter.ids));
  }
  if (filter.idPrefix !== undefined) {
    if (typeof filter.idPrefix !== 'string')
      throw new StorageError('INVALID_INPUT', 'idPrefix must be a string');
    where.push(sql.idStartsWith(filter.idPrefix));
  }
  if (filter.serialNumber !== undefined)
    where.push(`serial_number = ${sql.param(String(filter.serialNumber))}`);
  if (filter.channel !== undefined) where.push(`channel = ${sql.param(String(filter.channel))}`);
  if (filter.enabled !== undefined) where.push(sql.enabledIs(Boolean(filter.enabled)));
  if (filter.lastSeenBefore !== undefined) {
    const before = sql.param(date('lastSeenBefore', filter.lastSeenBefore));
    where.push(`(last_seen_at IS NULL OR last_seen_at < ${before})`);
  }
  if (filter.lastSeenAfter !== undefined) {
    where.push(`last_seen_at >= ${sql.param(date('lastSeenAfter', filter.lastSeenAfter))}`);
  }
  if (filter.after !== undefined) {
    if (typeof filter.after !== 'string') throw new StorageError('INVALID_INPUT', 'after must be a string');
    where.push(`id > ${sql.param(filter.after)}`);
  }
  const limit = pageLimit(filter.limit);
  if (none) return { items: [] };
  const rows = await read(where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', limit + 1);
  return pageOf(rows, limit, toEnrollment);
}

/** A row of the push-info query. */
export interface PushInfoRow {
  id: string;
  topic: string;
  push_token: string;
  push_magic: string;
}

/**
 * Push info of the enabled, pushable enrollments among `ids`: checks the ids and hands `read` the
 * distinct ones (never an empty list).
 */
export async function pushInfoOf(
  limits: StorageLimits,
  ids: string[],
  read: (distinct: string[]) => Promise<PushInfoRow[]>,
): Promise<PushInfo[]> {
  if (!Array.isArray(ids)) throw new StorageError('INVALID_INPUT', 'ids must be an array');
  for (const id of ids) checkKey('enrollment id', id, limits.maxKeyLength);
  if (ids.length === 0) return [];
  const rows = await read([...new Set(ids)]);
  return rows.map((r) => ({ id: r.id, topic: r.topic, pushToken: r.push_token, pushMagic: r.push_magic }));
}
