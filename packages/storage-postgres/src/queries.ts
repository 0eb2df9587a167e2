import {
  checkKey,
  type EnrollmentFilter,
  type EnrollmentRecord,
  type Page,
  type PushInfo,
  StorageError,
} from '@mdmkit/storage';
import { type Ctx, date, pageLimit } from './context';
import { type EnrollmentRow, enrollmentColumns, pageOf, toEnrollment } from '@mdmkit/storage/sql';
import { query } from './pool';

export async function listEnrollments(
  ctx: Ctx,
  filter: EnrollmentFilter = {},
): Promise<Page<EnrollmentRecord>> {
  if (typeof filter !== 'object' || filter === null)
    throw new StorageError('INVALID_INPUT', 'filter must be an object');
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  if (filter.ids !== undefined) {
    if (!Array.isArray(filter.ids)) throw new StorageError('INVALID_INPUT', 'ids must be an array');
    for (const id of filter.ids) checkKey('enrollment id', id, ctx.limits.maxKeyLength);
    where.push(`id = ANY(${param(filter.ids)}::text[])`);
  }
  if (filter.idPrefix !== undefined) {
    if (typeof filter.idPrefix !== 'string')
      throw new StorageError('INVALID_INPUT', 'idPrefix must be a string');
    // With the "C" collation a LIKE prefix is an index range scan; escape the pattern characters.
    where.push(`id LIKE ${param(`${filter.idPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
  }
  if (filter.serialNumber !== undefined) where.push(`serial_number = ${param(String(filter.serialNumber))}`);
  if (filter.channel !== undefined) where.push(`channel = ${param(String(filter.channel))}`);
  if (filter.enabled !== undefined) where.push(`enabled = ${param(Boolean(filter.enabled))}`);
  if (filter.lastSeenBefore !== undefined) {
    where.push(
      `(last_seen_at IS NULL OR last_seen_at < ${param(date('lastSeenBefore', filter.lastSeenBefore))})`,
    );
  }
  if (filter.lastSeenAfter !== undefined) {
    where.push(`last_seen_at >= ${param(date('lastSeenAfter', filter.lastSeenAfter))}`);
  }
  if (filter.after !== undefined) {
    if (typeof filter.after !== 'string') throw new StorageError('INVALID_INPUT', 'after must be a string');
    where.push(`id > ${param(filter.after)}`);
  }
  const limit = pageLimit(filter.limit);
  const { rows } = await query<EnrollmentRow>(
    ctx.db,
    'listEnrollments',
    `SELECT ${enrollmentColumns} FROM enrollments ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY id LIMIT ${param(limit + 1)}`,
    values,
  );
  return pageOf(rows, limit, toEnrollment);
}

export async function getPushInfo(ctx: Ctx, ids: string[]): Promise<PushInfo[]> {
  if (!Array.isArray(ids)) throw new StorageError('INVALID_INPUT', 'ids must be an array');
  for (const id of ids) checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  if (ids.length === 0) return [];
  const { rows } = await query<{ id: string; topic: string; push_token: string; push_magic: string }>(
    ctx.db,
    'getPushInfo',
    `SELECT id, topic, push_token, push_magic FROM enrollments
     WHERE id = ANY($1::text[]) AND enabled AND push_token IS NOT NULL AND topic IS NOT NULL AND push_magic IS NOT NULL
     ORDER BY id`,
    [[...new Set(ids)]],
  );
  return rows.map((r) => ({ id: r.id, topic: r.topic, pushToken: r.push_token, pushMagic: r.push_magic }));
}
