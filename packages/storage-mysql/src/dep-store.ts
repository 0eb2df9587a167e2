import { checkKey, type DepStore } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type mysql from 'mysql2/promise';
import type { Ctx } from './context';
import { buf, execute, type Header, transaction, type Tx } from './pool';

type Rows = mysql.RowDataPacket[];
const tokenCols = core.depTokenColumns.join(', ');
const deviceCols = core.depDeviceColumns.join(', ');
const same = (d: Date) => d;
const param = (v: unknown) => (v instanceof Uint8Array ? buf(v) : v) as string;

async function requireToken(ctx: Ctx, name: string): Promise<void> {
  const rows = await execute<Rows>(ctx.db, 'dep token', 'SELECT 1 FROM dep_tokens WHERE name = ?', [name]);
  if (!rows[0]) throw core.depTokenNotFound(name);
}

/** Fence check and update under the token's row lock. */
async function fenced(tx: Tx, name: string, fence: number): Promise<void> {
  const [rows] = await tx.execute<Rows>('SELECT fence FROM dep_tokens WHERE name = ? FOR UPDATE', [name]);
  if (!rows[0]) throw core.depTokenNotFound(name);
  core.checkFence(Number(rows[0].fence), fence);
  await tx.execute('UPDATE dep_tokens SET fence = ? WHERE name = ?', [fence, name]);
}

export const depStore: core.WithContext<Ctx, DepStore> = {
  async putDepToken(ctx, record) {
    core.checkDepToken(ctx.limits, record);
    const params = core.depTokenValues(record, same).map(param);
    await execute(
      ctx.db,
      'putDepToken',
      `INSERT INTO dep_tokens (${tokenCols}) VALUES (${params.map(() => '?').join(', ')})
       ON DUPLICATE KEY UPDATE ${core.depTokenColumns
         .slice(1)
         .map((c) => `${c} = VALUES(${c})`)
         .join(', ')}`,
      params,
    );
  },
  async getDepToken(ctx, name) {
    checkKey('token name', name, ctx.limits.maxKeyLength);
    const rows = await execute<Rows>(
      ctx.db,
      'getDepToken',
      `SELECT ${tokenCols} FROM dep_tokens WHERE name = ?`,
      [name],
    );
    return rows[0] ? core.toDepToken(rows[0] as core.DepTokenRow) : undefined;
  },
  async listDepTokens(ctx) {
    const rows = await execute<Rows>(
      ctx.db,
      'listDepTokens',
      `SELECT ${tokenCols} FROM dep_tokens ORDER BY name`,
    );
    return rows.map((r) => core.toDepToken(r as core.DepTokenRow));
  },
  async updateDepTokenStatus(ctx, name, status) {
    checkKey('token name', name, ctx.limits.maxKeyLength);
    const changes = core.depStatusChanges(status);
    const r = await execute<Header>(
      ctx.db,
      'updateDepTokenStatus',
      `UPDATE dep_tokens SET ${['updated_at = ?', ...changes.map(([c]) => `${c} = ?`)].join(', ')} WHERE name = ?`,
      [new Date(), ...changes.map(([, v]) => v), name],
    );
    if (r.affectedRows === 0) throw core.depTokenNotFound(name);
  },
  async deleteDepToken(ctx, name) {
    checkKey('token name', name, ctx.limits.maxKeyLength);
    return transaction(ctx.db, 'deleteDepToken', async (tx) => {
      await tx.execute('DELETE FROM dep_devices WHERE token_name = ?', [name]);
      await tx.execute('DELETE FROM dep_assignments WHERE token_name = ?', [name]);
      const [r] = await tx.execute<Header>('DELETE FROM dep_tokens WHERE name = ?', [name]);
      return r.affectedRows > 0;
    });
  },
  getDepCursor: (ctx, tokenName) =>
    core.depCursorOf(ctx.limits, tokenName, async (name) => {
      const rows = await execute<Rows>(
        ctx.db,
        'getDepCursor',
        'SELECT name, cursor_value AS `cursor`, phase, cursor_fence, cursor_updated_at FROM dep_tokens WHERE name = ?',
        [name],
      );
      return rows[0];
    }),
  async resetDepCursor(ctx, tokenName, fence) {
    checkKey('token name', tokenName, ctx.limits.maxKeyLength);
    await transaction(ctx.db, 'resetDepCursor', async (tx) => {
      await fenced(tx, tokenName, fence);
      await tx.execute(
        'UPDATE dep_tokens SET cursor_value = NULL, phase = NULL, cursor_fence = NULL, cursor_updated_at = NULL WHERE name = ?',
        [tokenName],
      );
    });
  },
  async applyDepPage(ctx, page) {
    page = core.checkDepPage(ctx.limits, page);
    return transaction(ctx.db, 'applyDepPage', async (tx) => {
      await fenced(tx, page.tokenName, page.fence);
      const now = new Date();
      const serials = core.pageSerials(page);
      const [rows] =
        serials.length === 0
          ? [[] as Rows]
          : await tx.query<Rows>(
              `SELECT ${deviceCols} FROM dep_devices WHERE token_name = ? AND serial_number IN (?)`,
              [page.tokenName, serials],
            );
      const plan = core.planDepPage(
        page,
        new Map(rows.map((r) => [String(r.serial_number), core.toDepDevice(r as core.DepDeviceRow)])),
        now,
      );
      if (plan.rows.length > 0) {
        // One multi-row statement per page, formatted client-side.
        await tx.query(
          `INSERT INTO dep_devices (${deviceCols}) VALUES ?
           ON DUPLICATE KEY UPDATE ${core.depDeviceColumns
             .slice(2)
             .map((c) => `${c} = VALUES(${c})`)
             .join(', ')}`,
          [plan.rows.map((d) => core.depDeviceValues(d, same, (b) => (b ? 1 : 0)))],
        );
      }
      await tx.execute(
        'UPDATE dep_tokens SET cursor_value = ?, phase = ?, cursor_fence = ?, cursor_updated_at = ? WHERE name = ?',
        [page.cursor, page.phase, page.fence, now, page.tokenName],
      );
      return plan.result;
    });
  },
  async getDepDevice(ctx, tokenName, serialNumber) {
    checkKey('serial number', serialNumber, ctx.limits.maxKeyLength);
    checkKey('token name', tokenName, ctx.limits.maxKeyLength);
    await requireToken(ctx, tokenName);
    const rows = await execute<Rows>(
      ctx.db,
      'getDepDevice',
      `SELECT ${deviceCols} FROM dep_devices WHERE token_name = ? AND serial_number = ?`,
      [tokenName, serialNumber],
    );
    return rows[0] ? core.toDepDevice(rows[0] as core.DepDeviceRow) : undefined;
  },
  async listDepDevices(ctx, tokenName, filter) {
    checkKey('token name', tokenName, ctx.limits.maxKeyLength);
    const f = core.depDeviceFilter(filter);
    await requireToken(ctx, tokenName);
    const rows = await execute<Rows>(
      ctx.db,
      'listDepDevices',
      `SELECT ${deviceCols} FROM dep_devices
       WHERE token_name = ? AND (? OR NOT deleted) AND (? IS NULL OR enrolled <> ?)
         AND (? IS NULL OR serial_number > ?)
       ORDER BY serial_number LIMIT ${f.limit + 1}`,
      [tokenName, f.includeDeleted, f.pending, f.pending, f.after, f.after],
    );
    return core.depDevicePage(rows as core.DepDeviceRow[], f.limit);
  },
  async markDepDeviceEnrolled(ctx, serialNumber, at = new Date()) {
    checkKey('serial number', serialNumber, ctx.limits.maxKeyLength);
    const r = await execute<Header>(
      ctx.db,
      'markDepDeviceEnrolled',
      'UPDATE dep_devices SET enrolled = 1, enrolled_at = ?, updated_at = ? WHERE serial_number = ? AND NOT enrolled',
      [new Date(at), new Date(), serialNumber],
    );
    return r.affectedRows;
  },
  async recordDepAssignment(ctx, record, fence) {
    core.checkDepAssignment(ctx.limits, record);
    core.checkFence(0, fence);
    await transaction(ctx.db, 'recordDepAssignment', async (tx) => {
      await fenced(tx, record.tokenName, fence);
      await tx.execute(
        `INSERT INTO dep_assignments (token_name, serial_number, profile_uuid, status, assigned_at) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE profile_uuid = VALUES(profile_uuid), status = VALUES(status), assigned_at = VALUES(assigned_at)`,
        [record.tokenName, record.serialNumber, record.profileUuid, record.status, record.assignedAt],
      );
    });
  },
  async getDepAssignment(ctx, tokenName, serialNumber) {
    checkKey('serial number', serialNumber, ctx.limits.maxKeyLength);
    checkKey('token name', tokenName, ctx.limits.maxKeyLength);
    await requireToken(ctx, tokenName);
    const rows = await execute<Rows>(
      ctx.db,
      'getDepAssignment',
      'SELECT token_name, serial_number, profile_uuid, status, assigned_at FROM dep_assignments WHERE token_name = ? AND serial_number = ?',
      [tokenName, serialNumber],
    );
    return rows[0] ? core.toDepAssignment(rows[0]) : undefined;
  },
  async listDepDevicesAwaitingProfile(ctx, tokenName, limit) {
    checkKey('token name', tokenName, ctx.limits.maxKeyLength);
    const n = core.awaitingLimit(limit);
    await requireToken(ctx, tokenName);
    const rows = await execute<Rows>(
      ctx.db,
      'listDepDevicesAwaitingProfile',
      `SELECT ${deviceCols.replace(/(^|, )/g, '$1d.')} FROM dep_devices d
       WHERE d.token_name = ? AND NOT d.deleted
         AND (d.profile_status IS NULL OR d.profile_status IN ('', 'empty', 'removed'))
         AND NOT EXISTS (SELECT 1 FROM dep_assignments a WHERE a.token_name = d.token_name AND a.serial_number = d.serial_number)
       ORDER BY d.serial_number LIMIT ${n}`,
      [tokenName],
    );
    return rows.map((r) => core.toDepDevice(r as core.DepDeviceRow));
  },
};
