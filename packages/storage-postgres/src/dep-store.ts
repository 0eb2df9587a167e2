import type {
  DepAssignmentRecord,
  DepDeviceFilter,
  DepDeviceRecord,
  DepPageInput,
  DepPageResult,
  DepStore,
  DepTokenRecord,
} from '@mdmkit/storage';
import { checkKey } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import { query, transaction, type Tx } from './pool';

const tokenCols = core.depTokenColumns.join(', ');
const deviceCols = core.depDeviceColumns.join(', ');
const same = (d: Date) => d;

/** The SQL type of each device column, for the `unnest` of a page's column arrays. */
const deviceColumnTypes: Record<(typeof core.depDeviceColumns)[number], string> = {
  token_name: 'text',
  serial_number: 'text',
  op_type: 'text',
  op_date: 'timestamptz',
  model: 'text',
  description: 'text',
  color: 'text',
  os: 'text',
  device_family: 'text',
  asset_tag: 'text',
  profile_status: 'text',
  profile_uuid: 'text',
  profile_assign_time: 'timestamptz',
  profile_push_time: 'timestamptz',
  device_assigned_date: 'timestamptz',
  device_assigned_by: 'text',
  raw: 'text',
  deleted: 'boolean',
  enrolled: 'boolean',
  enrolled_at: 'timestamptz',
  first_seen_at: 'timestamptz',
  updated_at: 'timestamptz',
};
// $1 is the token name (the same for every row); $2… are the other columns' arrays.
const perRow = core.depDeviceColumns.slice(1);
const upsertPage = `INSERT INTO dep_devices (${deviceCols})
  SELECT $1::text, u.* FROM unnest(${perRow.map((c, i) => `$${i + 2}::${deviceColumnTypes[c]}[]`).join(', ')})
    AS u(${perRow.join(', ')})
  ON CONFLICT (token_name, serial_number) DO UPDATE SET ${core.depDeviceColumns
    .slice(2)
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ')}`;

/** A page's rows turned column-wise: one array per device column, in column order. */
function pageColumns(rows: readonly DepDeviceRecord[]): unknown[][] {
  const columns: unknown[][] = core.depDeviceColumns.map(() => new Array(rows.length));
  rows.forEach((d, r) => {
    core.depDeviceValues(d, same, Boolean).forEach((v, c) => {
      columns[c]![r] = v;
    });
  });
  return columns;
}

async function requireToken(ctx: Ctx | Tx, name: string, lock = false): Promise<number> {
  const sql = `SELECT fence::text AS fence FROM dep_tokens WHERE name = $1${lock ? ' FOR UPDATE' : ''}`;
  const { rows } =
    'limits' in ctx
      ? await query<{ fence: string }>(ctx.db, 'dep token', sql, [name])
      : await ctx.query<{ fence: string }>(sql, [name]);
  if (!rows[0]) throw core.depTokenNotFound(name);
  return Number(rows[0].fence);
}

/** Fence check and update under the token's row lock. */
async function fenced(tx: Tx, name: string, fence: number): Promise<void> {
  core.checkFence(await requireToken(tx, name, true), fence);
  await tx.query('UPDATE dep_tokens SET fence = $2 WHERE name = $1', [name, fence]);
}

export const depStore: core.WithContext<Ctx, DepStore> = {
  async putDepToken(ctx, record: DepTokenRecord) {
    core.checkDepToken(ctx.limits, record);
    const params = core.depTokenValues(record, same);
    await query(
      ctx.db,
      'putDepToken',
      `INSERT INTO dep_tokens (${tokenCols}) VALUES (${params.map((_, i) => `$${i + 1}`).join(', ')})
       ON CONFLICT (name) DO UPDATE SET ${core.depTokenColumns
         .slice(1)
         .map((c) => `${c} = EXCLUDED.${c}`)
         .join(', ')}`,
      params,
    );
  },
  async getDepToken(ctx, name) {
    checkKey('token name', name, ctx.limits.maxKeyLength);
    const { rows } = await query<core.DepTokenRow>(
      ctx.db,
      'getDepToken',
      `SELECT ${tokenCols} FROM dep_tokens WHERE name = $1`,
      [name],
    );
    return rows[0] ? core.toDepToken(rows[0]) : undefined;
  },
  async listDepTokens(ctx) {
    const { rows } = await query<core.DepTokenRow>(
      ctx.db,
      'listDepTokens',
      `SELECT ${tokenCols} FROM dep_tokens ORDER BY name`,
    );
    return rows.map(core.toDepToken);
  },
  async updateDepTokenStatus(ctx, name, status) {
    checkKey('token name', name, ctx.limits.maxKeyLength);
    const changes = core.depStatusChanges(status);
    const sets = changes.map(([c], i) => `${c} = $${i + 3}`);
    const r = await query(
      ctx.db,
      'updateDepTokenStatus',
      `UPDATE dep_tokens SET ${['updated_at = $2', ...sets].join(', ')} WHERE name = $1`,
      [name, new Date(), ...changes.map(([, v]) => v)],
    );
    if (r.rowCount === 0) throw core.depTokenNotFound(name);
  },
  async deleteDepToken(ctx, name) {
    checkKey('token name', name, ctx.limits.maxKeyLength);
    return transaction(ctx.db, 'deleteDepToken', async (tx) => {
      await tx.query('DELETE FROM dep_devices WHERE token_name = $1', [name]);
      await tx.query('DELETE FROM dep_assignments WHERE token_name = $1', [name]);
      const r = await tx.query('DELETE FROM dep_tokens WHERE name = $1', [name]);
      return (r.rowCount ?? 0) > 0;
    });
  },
  getDepCursor: (ctx, tokenName) =>
    core.depCursorOf(ctx.limits, tokenName, async (name) => {
      const { rows } = await query(
        ctx.db,
        'getDepCursor',
        'SELECT name, cursor, phase, cursor_fence::text AS cursor_fence, cursor_updated_at FROM dep_tokens WHERE name = $1',
        [name],
      );
      return rows[0];
    }),
  async resetDepCursor(ctx, tokenName, fence) {
    checkKey('token name', tokenName, ctx.limits.maxKeyLength);
    await transaction(ctx.db, 'resetDepCursor', async (tx) => {
      await fenced(tx, tokenName, fence);
      await tx.query(
        'UPDATE dep_tokens SET cursor = NULL, phase = NULL, cursor_fence = NULL, cursor_updated_at = NULL WHERE name = $1',
        [tokenName],
      );
    });
  },
  async applyDepPage(ctx, page: DepPageInput): Promise<DepPageResult> {
    page = core.checkDepPage(ctx.limits, page);
    return transaction(ctx.db, 'applyDepPage', async (tx) => {
      await fenced(tx, page.tokenName, page.fence);
      const now = new Date();
      const { rows } = await tx.query<core.DepDeviceRow>(
        `SELECT ${deviceCols} FROM dep_devices WHERE token_name = $1 AND serial_number = ANY($2::text[])`,
        [page.tokenName, core.pageSerials(page)],
      );
      const plan = core.planDepPage(
        page,
        new Map(rows.map((r) => [String(r.serial_number), core.toDepDevice(r)])),
        now,
      );
      if (plan.rows.length > 0) {
        // One statement per page, one array parameter per column: no per-row objects or JSON text.
        const columns = pageColumns(plan.rows);
        await tx.query(upsertPage, [page.tokenName, ...columns.slice(1)]);
      }
      await tx.query(
        'UPDATE dep_tokens SET cursor = $2, phase = $3, cursor_fence = $4, cursor_updated_at = $5 WHERE name = $1',
        [page.tokenName, page.cursor, page.phase, page.fence, now],
      );
      return plan.result;
    });
  },
  async getDepDevice(ctx, tokenName, serialNumber): Promise<DepDeviceRecord | undefined> {
    checkKey('serial number', serialNumber, ctx.limits.maxKeyLength);
    checkKey('token name', tokenName, ctx.limits.maxKeyLength);
    await requireToken(ctx, tokenName);
    const { rows } = await query<core.DepDeviceRow>(
      ctx.db,
      'getDepDevice',
      `SELECT ${deviceCols} FROM dep_devices WHERE token_name = $1 AND serial_number = $2`,
      [tokenName, serialNumber],
    );
    return rows[0] ? core.toDepDevice(rows[0]) : undefined;
  },
  async listDepDevices(ctx, tokenName, filter?: DepDeviceFilter) {
    checkKey('token name', tokenName, ctx.limits.maxKeyLength);
    const f = core.depDeviceFilter(filter);
    await requireToken(ctx, tokenName);
    const { rows } = await query<core.DepDeviceRow>(
      ctx.db,
      'listDepDevices',
      `SELECT ${deviceCols} FROM dep_devices
       WHERE token_name = $1 AND ($2 OR NOT deleted) AND ($3::boolean IS NULL OR enrolled <> $3::boolean)
         AND ($4::text IS NULL OR serial_number > $4::text)
       ORDER BY serial_number LIMIT $5`,
      [tokenName, f.includeDeleted, f.pending, f.after, f.limit + 1],
    );
    return core.depDevicePage(rows, f.limit);
  },
  async markDepDeviceEnrolled(ctx, serialNumber, at = new Date()) {
    checkKey('serial number', serialNumber, ctx.limits.maxKeyLength);
    const r = await query(
      ctx.db,
      'markDepDeviceEnrolled',
      'UPDATE dep_devices SET enrolled = true, enrolled_at = $2, updated_at = $3 WHERE serial_number = $1 AND NOT enrolled',
      [serialNumber, new Date(at), new Date()],
    );
    return r.rowCount ?? 0;
  },
  async recordDepAssignment(ctx, record: DepAssignmentRecord, fence: number) {
    core.checkDepAssignment(ctx.limits, record);
    core.checkFence(0, fence);
    await transaction(ctx.db, 'recordDepAssignment', async (tx) => {
      await fenced(tx, record.tokenName, fence);
      await tx.query(
        `INSERT INTO dep_assignments (token_name, serial_number, profile_uuid, status, assigned_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (token_name, serial_number) DO UPDATE SET profile_uuid = EXCLUDED.profile_uuid,
         status = EXCLUDED.status, assigned_at = EXCLUDED.assigned_at`,
        [record.tokenName, record.serialNumber, record.profileUuid, record.status, record.assignedAt],
      );
    });
  },
  async getDepAssignment(ctx, tokenName, serialNumber) {
    checkKey('serial number', serialNumber, ctx.limits.maxKeyLength);
    checkKey('token name', tokenName, ctx.limits.maxKeyLength);
    await requireToken(ctx, tokenName);
    const { rows } = await query(
      ctx.db,
      'getDepAssignment',
      'SELECT token_name, serial_number, profile_uuid, status, assigned_at FROM dep_assignments WHERE token_name = $1 AND serial_number = $2',
      [tokenName, serialNumber],
    );
    return rows[0] ? core.toDepAssignment(rows[0]) : undefined;
  },
  async listDepDevicesAwaitingProfile(ctx, tokenName, limit) {
    checkKey('token name', tokenName, ctx.limits.maxKeyLength);
    const n = core.awaitingLimit(limit);
    await requireToken(ctx, tokenName);
    const { rows } = await query<core.DepDeviceRow>(
      ctx.db,
      'listDepDevicesAwaitingProfile',
      `SELECT ${deviceCols.replace(/(^|, )/g, '$1d.')} FROM dep_devices d
       WHERE d.token_name = $1 AND NOT d.deleted
         AND (d.profile_status IS NULL OR d.profile_status IN ('', 'empty', 'removed'))
         AND NOT EXISTS (SELECT 1 FROM dep_assignments a WHERE a.token_name = d.token_name AND a.serial_number = d.serial_number)
       ORDER BY d.serial_number LIMIT $2`,
      [tokenName, n],
    );
    return rows.map(core.toDepDevice);
  },
};
