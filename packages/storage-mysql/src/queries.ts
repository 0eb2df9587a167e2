import {
  checkKey,
  type EnrollmentFilter,
  type EnrollmentRecord,
  type Page,
  type PushInfo,
  StorageError,
} from '@mdmkit/storage';
import type mysql from 'mysql2/promise';
import { type Ctx, date, pageLimit } from './context';
import { enrollmentColumns, pageOf, toEnrollment } from '@mdmkit/storage/sql';
import type { EnrollmentRow } from './enrollments';
import { query } from './pool';

export async function listEnrollments(
  ctx: Ctx,
  filter: EnrollmentFilter = {},
): Promise<Page<EnrollmentRecord>> {
  if (typeof filter !== 'object' || filter === null)
    throw new StorageError('INVALID_INPUT', 'filter must be an object');
  const where: string[] = [];
  const values: unknown[] = [];
  if (filter.ids !== undefined) {
    if (!Array.isArray(filter.ids)) throw new StorageError('INVALID_INPUT', 'ids must be an array');
    for (const id of filter.ids) checkKey('enrollment id', id, ctx.limits.maxKeyLength);
    if (filter.ids.length === 0) return { items: [] };
    where.push('id IN (?)');
    values.push(filter.ids);
  }
  if (filter.idPrefix !== undefined) {
    if (typeof filter.idPrefix !== 'string')
      throw new StorageError('INVALID_INPUT', 'idPrefix must be a string');
    // An explicit escape character, so the pattern means the same whatever the sql_mode.
    where.push("id LIKE ? ESCAPE '!'");
    values.push(`${filter.idPrefix.replace(/[!%_]/g, (c) => `!${c}`)}%`);
  }
  if (filter.serialNumber !== undefined) {
    where.push('serial_number = ?');
    values.push(String(filter.serialNumber));
  }
  if (filter.channel !== undefined) {
    where.push('channel = ?');
    values.push(String(filter.channel));
  }
  if (filter.enabled !== undefined) {
    where.push('enabled = ?');
    values.push(filter.enabled ? 1 : 0);
  }
  if (filter.lastSeenBefore !== undefined) {
    where.push('(last_seen_at IS NULL OR last_seen_at < ?)');
    values.push(date('lastSeenBefore', filter.lastSeenBefore));
  }
  if (filter.lastSeenAfter !== undefined) {
    where.push('last_seen_at >= ?');
    values.push(date('lastSeenAfter', filter.lastSeenAfter));
  }
  if (filter.after !== undefined) {
    if (typeof filter.after !== 'string') throw new StorageError('INVALID_INPUT', 'after must be a string');
    where.push('id > ?');
    values.push(filter.after);
  }
  const limit = pageLimit(filter.limit);
  const rows = await query<EnrollmentRow[]>(
    ctx.db,
    'listEnrollments',
    `SELECT ${enrollmentColumns} FROM enrollments ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY id LIMIT ${limit + 1}`,
    values,
  );
  return pageOf(rows, limit, toEnrollment);
}

export async function getPushInfo(ctx: Ctx, ids: string[]): Promise<PushInfo[]> {
  if (!Array.isArray(ids)) throw new StorageError('INVALID_INPUT', 'ids must be an array');
  for (const id of ids) checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  if (ids.length === 0) return [];
  const rows = await query<mysql.RowDataPacket[]>(
    ctx.db,
    'getPushInfo',
    `SELECT id, topic, push_token, push_magic FROM enrollments
     WHERE id IN (?) AND enabled = 1 AND push_token IS NOT NULL AND topic IS NOT NULL AND push_magic IS NOT NULL
     ORDER BY id`,
    [[...new Set(ids)]],
  );
  return rows.map((r) => ({
    id: r.id as string,
    topic: r.topic as string,
    pushToken: r.push_token as string,
    pushMagic: r.push_magic as string,
  }));
}
