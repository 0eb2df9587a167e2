import { checkKey, type DepStore } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import { bit, ms, type Row, type SqliteIo } from './io';

const tokenCols = core.depTokenColumns.join(', ');
const deviceCols = core.depDeviceColumns.join(', ');
const sqlValue = (v: unknown): unknown =>
  v instanceof Uint8Array
    ? Buffer.from(v.buffer, v.byteOffset, v.byteLength)
    : typeof v === 'boolean'
      ? bit(v)
      : v;
const upsertDevice = `INSERT INTO dep_devices (${deviceCols}) VALUES (${core.depDeviceColumns.map(() => '?').join(', ')})
  ON CONFLICT (token_name, serial_number) DO UPDATE SET ${core.depDeviceColumns
    .slice(2)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

function requireToken(io: SqliteIo, name: string): number {
  const row = io.stmt('SELECT fence FROM dep_tokens WHERE name = ?').get(name) as Row | undefined;
  if (!row) throw core.depTokenNotFound(name);
  return Number(row.fence);
}

/** Inside a write: fence check and update (the write lock orders every fenced write). */
function fenced(io: SqliteIo, name: string, fence: number): void {
  core.checkFence(requireToken(io, name), fence);
  io.stmt('UPDATE dep_tokens SET fence = ? WHERE name = ?').run(fence, name);
}

export const depStore: core.WithContext<SqliteIo, DepStore> = {
  async putDepToken(io, record) {
    core.checkDepToken(io.limits, record);
    const params = core.depTokenValues(record, ms).map(sqlValue);
    await io.write(() =>
      io
        .stmt(
          `INSERT INTO dep_tokens (${tokenCols}) VALUES (${params.map(() => '?').join(', ')})
           ON CONFLICT (name) DO UPDATE SET ${core.depTokenColumns
             .slice(1)
             .map((c) => `${c} = excluded.${c}`)
             .join(', ')}`,
        )
        .run(...params),
    );
  },
  async getDepToken(io, name) {
    checkKey('token name', name, io.limits.maxKeyLength);
    const row = await io.read(() => io.stmt(`SELECT ${tokenCols} FROM dep_tokens WHERE name = ?`).get(name));
    return row ? core.toDepToken(row as core.DepTokenRow) : undefined;
  },
  async listDepTokens(io) {
    const rows = await io.read(() => io.stmt(`SELECT ${tokenCols} FROM dep_tokens ORDER BY name`).all());
    return rows.map((r) => core.toDepToken(r as core.DepTokenRow));
  },
  async updateDepTokenStatus(io, name, status) {
    checkKey('token name', name, io.limits.maxKeyLength);
    const changes = core.depStatusChanges(status);
    const sql = `UPDATE dep_tokens SET ${['updated_at = ?', ...changes.map(([c]) => `${c} = ?`)].join(', ')} WHERE name = ?`;
    const params = [Date.now(), ...changes.map(([, v]) => (v instanceof Date ? ms(v) : sqlValue(v))), name];
    const n = await io.write(() => io.stmt(sql).run(...params).changes);
    if (n === 0) throw core.depTokenNotFound(name);
  },
  async deleteDepToken(io, name) {
    checkKey('token name', name, io.limits.maxKeyLength);
    return io.write(() => {
      io.stmt('DELETE FROM dep_devices WHERE token_name = ?').run(name);
      io.stmt('DELETE FROM dep_assignments WHERE token_name = ?').run(name);
      return io.stmt('DELETE FROM dep_tokens WHERE name = ?').run(name).changes > 0;
    });
  },
  async getDepCursor(io, tokenName) {
    checkKey('token name', tokenName, io.limits.maxKeyLength);
    const row = await io.read(() =>
      io
        .stmt('SELECT name, cursor, phase, cursor_fence, cursor_updated_at FROM dep_tokens WHERE name = ?')
        .get(tokenName),
    );
    if (!row) throw core.depTokenNotFound(tokenName);
    return core.toDepCursor(row as Row);
  },
  async resetDepCursor(io, tokenName, fence) {
    checkKey('token name', tokenName, io.limits.maxKeyLength);
    await io.write(() => {
      fenced(io, tokenName, fence);
      io.stmt(
        'UPDATE dep_tokens SET cursor = NULL, phase = NULL, cursor_fence = NULL, cursor_updated_at = NULL WHERE name = ?',
      ).run(tokenName);
    });
  },
  async applyDepPage(io, page) {
    page = core.checkDepPage(io.limits, page);
    return io.write(() => {
      fenced(io, page.tokenName, page.fence);
      const now = new Date();
      const rows = io
        .stmt(
          `SELECT ${deviceCols} FROM dep_devices WHERE token_name = ? AND serial_number IN (SELECT value FROM json_each(?))`,
        )
        .all(page.tokenName, JSON.stringify(core.pageSerials(page))) as core.DepDeviceRow[];
      const plan = core.planDepPage(
        page,
        new Map(rows.map((r) => [String(r.serial_number), core.toDepDevice(r)])),
        now,
      );
      const upsert = io.stmt(upsertDevice);
      for (const d of plan.rows) upsert.run(...core.depDeviceValues(d, ms, bit));
      io.stmt(
        'UPDATE dep_tokens SET cursor = ?, phase = ?, cursor_fence = ?, cursor_updated_at = ? WHERE name = ?',
      ).run(page.cursor, page.phase, page.fence, now.getTime(), page.tokenName);
      return plan.result;
    });
  },
  async getDepDevice(io, tokenName, serialNumber) {
    checkKey('serial number', serialNumber, io.limits.maxKeyLength);
    checkKey('token name', tokenName, io.limits.maxKeyLength);
    const row = await io.read(() => {
      requireToken(io, tokenName);
      return io
        .stmt(`SELECT ${deviceCols} FROM dep_devices WHERE token_name = ? AND serial_number = ?`)
        .get(tokenName, serialNumber);
    });
    return row ? core.toDepDevice(row as core.DepDeviceRow) : undefined;
  },
  async listDepDevices(io, tokenName, filter) {
    checkKey('token name', tokenName, io.limits.maxKeyLength);
    const f = core.depDeviceFilter(filter);
    const rows = await io.read(() => {
      requireToken(io, tokenName);
      return io
        .stmt(
          `SELECT ${deviceCols} FROM dep_devices
           WHERE token_name = ? AND (? OR NOT deleted) AND (? IS NULL OR enrolled <> ?)
             AND (? IS NULL OR serial_number > ?)
           ORDER BY serial_number LIMIT ?`,
        )
        .all(
          tokenName,
          bit(f.includeDeleted),
          sqlValue(f.pending),
          sqlValue(f.pending),
          f.after,
          f.after,
          f.limit + 1,
        );
    });
    return core.depDevicePage(rows as core.DepDeviceRow[], f.limit);
  },
  async markDepDeviceEnrolled(io, serialNumber, at = new Date()) {
    checkKey('serial number', serialNumber, io.limits.maxKeyLength);
    const t = new Date(at).getTime();
    return io.write(
      () =>
        io
          .stmt(
            'UPDATE dep_devices SET enrolled = 1, enrolled_at = ?, updated_at = ? WHERE serial_number = ? AND NOT enrolled',
          )
          .run(t, Date.now(), serialNumber).changes,
    );
  },
  async recordDepAssignment(io, record, fence) {
    core.checkDepAssignment(io.limits, record);
    core.checkFence(0, fence);
    await io.write(() => {
      fenced(io, record.tokenName, fence);
      io.stmt(
        `INSERT INTO dep_assignments (token_name, serial_number, profile_uuid, status, assigned_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (token_name, serial_number) DO UPDATE SET profile_uuid = excluded.profile_uuid,
           status = excluded.status, assigned_at = excluded.assigned_at`,
      ).run(record.tokenName, record.serialNumber, record.profileUuid, record.status, ms(record.assignedAt));
    });
  },
  async getDepAssignment(io, tokenName, serialNumber) {
    checkKey('serial number', serialNumber, io.limits.maxKeyLength);
    checkKey('token name', tokenName, io.limits.maxKeyLength);
    const row = await io.read(() => {
      requireToken(io, tokenName);
      return io
        .stmt(
          'SELECT token_name, serial_number, profile_uuid, status, assigned_at FROM dep_assignments WHERE token_name = ? AND serial_number = ?',
        )
        .get(tokenName, serialNumber);
    });
    return row ? core.toDepAssignment(row as Row) : undefined;
  },
  async listDepDevicesAwaitingProfile(io, tokenName, limit) {
    checkKey('token name', tokenName, io.limits.maxKeyLength);
    const n = core.awaitingLimit(limit);
    const rows = await io.read(() => {
      requireToken(io, tokenName);
      return io
        .stmt(
          `SELECT ${deviceCols.replace(/(^|, )/g, '$1d.')} FROM dep_devices d
           WHERE d.token_name = ? AND NOT d.deleted
             AND (d.profile_status IS NULL OR d.profile_status IN ('', 'empty', 'removed'))
             AND NOT EXISTS (SELECT 1 FROM dep_assignments a WHERE a.token_name = d.token_name AND a.serial_number = d.serial_number)
           ORDER BY d.serial_number LIMIT ?`,
        )
        .all(tokenName, n);
    });
    return rows.map((r) => core.toDepDevice(r as core.DepDeviceRow));
  },
};
