import type { EnrollmentFilter, EnrollmentRecord, Page, PushInfo } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import { query } from './pool';

export async function listEnrollments(
  ctx: Ctx,
  filter: EnrollmentFilter = {},
): Promise<Page<EnrollmentRecord>> {
  const values: unknown[] = [];
  const param = (v: unknown): string => {
    values.push(v);
    return `$${values.length}`;
  };
  const sql: core.EnrollmentFilterSql = {
    param,
    idIn: (ids) => `id = ANY(${param(ids)}::text[])`,
    // With the "C" collation a LIKE prefix is an index range scan; escape the pattern characters.
    idStartsWith: (prefix) => `id LIKE ${param(`${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`,
    enabledIs: (value) => `enabled = ${param(value)}`,
  };
  return core.listEnrollmentsWith(ctx.limits, filter, sql, async (where, rows) => {
    const limit = param(rows);
    const found = await query<core.EnrollmentRow>(
      ctx.db,
      'listEnrollments',
      `SELECT ${core.enrollmentColumns} FROM enrollments ${where} ORDER BY id LIMIT ${limit}`,
      values,
    );
    return found.rows;
  });
}

export function getPushInfo(ctx: Ctx, ids: string[]): Promise<PushInfo[]> {
  return core.pushInfoOf(ctx.limits, ids, async (distinct) => {
    const { rows } = await query<core.PushInfoRow>(
      ctx.db,
      'getPushInfo',
      `SELECT id, topic, push_token, push_magic FROM enrollments
       WHERE id = ANY($1::text[]) AND enabled AND push_token IS NOT NULL AND topic IS NOT NULL AND push_magic IS NOT NULL
       ORDER BY id`,
      [distinct],
    );
    return rows;
  });
}
