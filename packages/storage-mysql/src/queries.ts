import type { EnrollmentFilter, EnrollmentRecord, Page, PushInfo } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import type { EnrollmentRow } from './enrollments';
import { query } from './pool';

export function listEnrollments(ctx: Ctx, filter: EnrollmentFilter = {}): Promise<Page<EnrollmentRecord>> {
  const values: unknown[] = [];
  const param = (v: unknown): string => {
    values.push(v);
    return '?';
  };
  const sql: core.EnrollmentFilterSql = {
    param,
    idIn: (ids) => `id IN (${param(ids)})`,
    // An explicit escape character, so the pattern means the same whatever the sql_mode.
    idStartsWith: (prefix) => `id LIKE ${param(`${prefix.replace(/[!%_]/g, (c) => `!${c}`)}%`)} ESCAPE '!'`,
    enabledIs: (value) => `enabled = ${param(value ? 1 : 0)}`,
  };
  return core.listEnrollmentsWith(ctx.limits, filter, sql, (where, rows) =>
    query<EnrollmentRow[]>(
      ctx.db,
      'listEnrollments',
      `SELECT ${core.enrollmentColumns} FROM enrollments ${where} ORDER BY id LIMIT ${rows}`,
      values,
    ),
  );
}

export function getPushInfo(ctx: Ctx, ids: string[]): Promise<PushInfo[]> {
  return core.pushInfoOf(ctx.limits, ids, (distinct) =>
    query<(core.PushInfoRow & EnrollmentRow)[]>(
      ctx.db,
      'getPushInfo',
      `SELECT id, topic, push_token, push_magic FROM enrollments
       WHERE id IN (?) AND enabled = 1 AND push_token IS NOT NULL AND topic IS NOT NULL AND push_magic IS NOT NULL
       ORDER BY id`,
      [distinct],
    ),
  );
}
