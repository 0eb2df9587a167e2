// Enrollment listing and push-target lookups.
import {
  checkDate,
  type EnrollmentFilter,
  type EnrollmentRecord,
  type Page,
  type PushInfo,
} from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import { toEnrollment } from './enrollments';
import type { Row } from './io';

export async function listEnrollments(
  ctx: Ctx,
  filter: EnrollmentFilter = {},
): Promise<Page<EnrollmentRecord>> {
  ctx.check();
  const limit = core.pageLimit(filter.limit);
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.after !== undefined) {
    where.push('id > ?');
    args.push(filter.after);
  }
  if (filter.ids) {
    where.push('id IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(filter.ids));
  }
  if (filter.idPrefix !== undefined) {
    // the range uses the primary key; the substr test makes it exact
    where.push('id >= ? AND id < ? || char(1114111) AND substr(id, 1, length(?)) = ?');
    args.push(filter.idPrefix, filter.idPrefix, filter.idPrefix, filter.idPrefix);
  }
  if (filter.serialNumber !== undefined) {
    where.push('serial_number = ?');
    args.push(filter.serialNumber);
  }
  if (filter.channel !== undefined) {
    where.push('channel = ?');
    args.push(filter.channel);
  }
  if (filter.enabled !== undefined) {
    where.push('enabled = ?');
    args.push(filter.enabled ? 1 : 0);
  }
  if (filter.lastSeenBefore !== undefined) {
    checkDate('lastSeenBefore', filter.lastSeenBefore);
    where.push('(last_seen_at IS NULL OR last_seen_at < ?)');
    args.push(filter.lastSeenBefore.getTime());
  }
  if (filter.lastSeenAfter !== undefined) {
    checkDate('lastSeenAfter', filter.lastSeenAfter);
    where.push('last_seen_at >= ?');
    args.push(filter.lastSeenAfter.getTime());
  }
  const sql = `SELECT ${core.enrollmentColumns} FROM enrollments${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`;
  const rows = ctx.stmt(sql).all(...args, limit + 1) as (Row & { id: string })[];
  return core.pageOf(rows, limit, toEnrollment);
}

export async function getPushInfo(ctx: Ctx, ids: string[]): Promise<PushInfo[]> {
  ctx.check();
  if (ids.length === 0) return [];
  const rows = ctx
    .stmt(
      `SELECT id, topic, push_token, push_magic FROM enrollments
       WHERE id IN (SELECT value FROM json_each(?)) AND enabled = 1
         AND topic IS NOT NULL AND push_token IS NOT NULL AND push_magic IS NOT NULL ORDER BY id`,
    )
    .all(JSON.stringify(ids)) as Row[];
  return rows.map((r) => ({
    id: r.id as string,
    topic: r.topic as string,
    pushToken: r.push_token as string,
    pushMagic: r.push_magic as string,
  }));
}
