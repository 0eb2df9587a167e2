import { describe, expect, it } from 'vitest';
import { resolveLimits } from '../src/index';
import { type EnrollmentFilterSql, type EnrollmentRow, listEnrollmentsWith } from '../src/sql/index';

const limits = resolveLimits();

/** A dialect with `?` placeholders that records what it was asked to run. */
function dialect(): {
  sql: EnrollmentFilterSql;
  values: unknown[];
  reads: { where: string; rows: number }[];
} {
  const values: unknown[] = [];
  const param = (v: unknown): string => {
    values.push(v);
    return '?';
  };
  return {
    values,
    reads: [],
    sql: {
      param,
      idIn: (ids) => `id IN (${param(ids)})`,
      idStartsWith: (prefix) => `id LIKE ${param(`${prefix}%`)}`,
      enabledIs: (value) => `enabled = ${param(value)}`,
    },
  };
}

function list(filter: object) {
  const d = dialect();
  const page = listEnrollmentsWith(limits, filter, d.sql, async (where, rows) => {
    d.reads.push({ where, rows });
    return [] as EnrollmentRow[];
  });
  return { page, d };
}

describe('listEnrollmentsWith', () => {
  it('checks the whole filter even when the id list is empty', async () => {
    const bad = [
      { ids: [], idPrefix: 5 },
      { ids: [], after: 5 },
      { ids: [], lastSeenBefore: 'yesterday' },
      { ids: [], lastSeenAfter: new Date(Number.NaN) },
    ];
    for (const filter of bad) {
      await expect(list(filter).page, JSON.stringify(filter)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    }
    // A valid filter with no ids matches nothing, without a query.
    const { page, d } = list({ ids: [], idPrefix: 'a', after: 'a0' });
    await expect(page).resolves.toEqual({ items: [] });
    expect(d.reads).toEqual([]);
  });

  it('binds every value and puts only placeholders in the WHERE clause', async () => {
    const hostile = "x' OR '1'='1";
    const at = new Date('2030-01-01T00:00:00Z');
    const { page, d } = list({
      ids: [hostile],
      idPrefix: hostile,
      serialNumber: hostile,
      channel: hostile,
      enabled: true,
      lastSeenBefore: at,
      lastSeenAfter: at,
      after: hostile,
      limit: 7,
    });
    await page;
    expect(d.reads).toHaveLength(1);
    expect(d.reads[0]!.where).not.toContain(hostile);
    expect(d.reads[0]!.where).toBe(
      'WHERE id IN (?) AND id LIKE ? AND serial_number = ? AND channel = ? AND enabled = ? AND ' +
        '(last_seen_at IS NULL OR last_seen_at < ?) AND last_seen_at >= ? AND id > ?',
    );
    expect(d.values).toEqual([[hostile], `${hostile}%`, hostile, hostile, true, at, at, hostile]);
    expect(d.reads[0]!.rows).toBe(8);
  });
});
