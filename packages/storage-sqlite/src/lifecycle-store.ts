import { checkDate, checkKey, type LifecycleStores } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { SqliteIo } from './io';

const key = (io: SqliteIo, what: string, v: unknown): void => checkKey(what, v, io.limits.maxKeyLength);

export const lifecycleStore: core.WithContext<SqliteIo, LifecycleStores> = {
  async putDeclarationSet(io, name, declarations, at) {
    core.checkDeclarationSet(io.limits, name, declarations, at);
    const t = (at ?? new Date()).getTime();
    await io.write(() =>
      io
        .stmt(
          `INSERT INTO declaration_sets (name, declarations, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET declarations = excluded.declarations, updated_at = excluded.updated_at`,
        )
        .run(name, declarations, t),
    );
    return { name, declarations, updatedAt: new Date(t) };
  },
  async getDeclarationSet(io, name) {
    key(io, 'declaration set name', name);
    const row = await io.read(
      () =>
        io.stmt(`SELECT ${core.declarationSetColumns} FROM declaration_sets WHERE name = ?`).get(name) as
          | core.DeclarationSetRow
          | undefined,
    );
    return row ? core.toDeclarationSet(row) : undefined;
  },
  async deleteDeclarationSet(io, name) {
    key(io, 'declaration set name', name);
    return io.write(() => {
      io.stmt('DELETE FROM declaration_assignments WHERE set_name = ?').run(name);
      return io.stmt('DELETE FROM declaration_sets WHERE name = ?').run(name).changes > 0;
    });
  },
  async assignDeclarationSet(io, name, enrollmentIds) {
    const ids = core.checkAssignment(io.limits, name, enrollmentIds);
    await io.write(() => {
      const s = io.stmt(
        'INSERT INTO declaration_assignments (set_name, enrollment_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
      );
      for (const id of ids) s.run(name, id);
    });
  },
  async unassignDeclarationSet(io, name, enrollmentIds) {
    const ids = core.checkAssignment(io.limits, name, enrollmentIds);
    return io.write(() => {
      const s = io.stmt('DELETE FROM declaration_assignments WHERE set_name = ? AND enrollment_id = ?');
      let n = 0;
      for (const id of ids) n += s.run(name, id).changes;
      return n;
    });
  },
  async declarationSetsOf(io, enrollmentId) {
    key(io, 'enrollment id', enrollmentId);
    const rows = await io.read(() =>
      io
        .stmt('SELECT set_name FROM declaration_assignments WHERE enrollment_id = ? ORDER BY set_name')
        .all(enrollmentId),
    );
    return (rows as { set_name: string }[]).map((r) => r.set_name);
  },
  async enrollmentsWithDeclarationSet(io, name, options = {}) {
    key(io, 'declaration set name', name);
    const limit = core.pageLimit(options.limit);
    const rows = await io.read(() =>
      io
        .stmt(
          `SELECT enrollment_id FROM declaration_assignments
           WHERE set_name = ? AND (? IS NULL OR enrollment_id > ?) ORDER BY enrollment_id LIMIT ?`,
        )
        .all(name, options.after ?? null, options.after ?? null, limit + 1),
    );
    return core.keyedPage(
      (rows as { enrollment_id: string }[]).map((r) => r.enrollment_id),
      limit,
      (id) => id,
    );
  },
  async appendDdmStatus(io, enrollmentId, report, at) {
    core.checkDdmStatus(io.limits, enrollmentId, report, at);
    const t = (at ?? new Date()).getTime();
    const id = await io.write(() => {
      const inserted = io
        .stmt('INSERT INTO ddm_status (enrollment_id, report, received_at) VALUES (?, ?, ?)')
        .run(enrollmentId, report, t).lastInsertRowid;
      io.stmt(core.trimDdmStatusSql).run(enrollmentId, enrollmentId);
      return inserted;
    });
    return { id: String(id), enrollmentId, report, receivedAt: new Date(t) };
  },
  async listDdmStatus(io, enrollmentId, options = {}) {
    key(io, 'enrollment id', enrollmentId);
    const before = core.statusCursor(options.after) ?? null;
    const limit = core.pageLimit(options.limit);
    const rows = await io.read(() =>
      io
        .stmt(
          `SELECT ${core.ddmStatusColumns} FROM ddm_status WHERE enrollment_id = ? AND (? IS NULL OR id < ?)
           ORDER BY id DESC LIMIT ?`,
        )
        .all(enrollmentId, before, before, limit + 1),
    );
    return core.ddmStatusPage(rows as core.DdmStatusRow[], limit);
  },
  async putIdentityCertificate(io, r) {
    core.checkIdentityCertificate(io.limits, r);
    await io.write(() =>
      io
        .stmt(
          `INSERT INTO identity_certificates (hash, enrollment_id, not_after, trust, retire_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (hash) DO UPDATE SET enrollment_id = excluded.enrollment_id, not_after = excluded.not_after,
             trust = excluded.trust, retire_at = excluded.retire_at`,
        )
        .run(r.hash, r.enrollmentId, r.notAfter.getTime(), r.trust, r.retireAt?.getTime() ?? null),
    );
  },
  async getIdentityCertificate(io, hash) {
    core.checkCertHash(hash);
    const row = await io.read(
      () =>
        io
          .stmt(`SELECT ${core.identityCertificateColumns} FROM identity_certificates WHERE hash = ?`)
          .get(hash) as core.IdentityCertificateRow | undefined,
    );
    return row ? core.toIdentityCertificate(row) : undefined;
  },
  async listExpiringIdentityCertificates(io, before, options = {}) {
    checkDate('before', before);
    const limit = core.pageLimit(options.limit);
    const rows = await io.read(() =>
      io
        .stmt(
          `SELECT ${core.identityCertificateColumns} FROM identity_certificates
           WHERE retire_at IS NULL AND not_after < ? AND (? IS NULL OR hash > ?) ORDER BY hash LIMIT ?`,
        )
        .all(before.getTime(), options.after ?? null, options.after ?? null, limit + 1),
    );
    return core.keyedPage(
      (rows as core.IdentityCertificateRow[]).map(core.toIdentityCertificate),
      limit,
      (r) => r.hash,
    );
  },
  async retireIdentityCertificates(io, enrollmentId, keepHash, retireAt) {
    core.checkRetire(io.limits, enrollmentId, keepHash, retireAt);
    return io.write(
      () =>
        io
          .stmt(
            `UPDATE identity_certificates SET retire_at = ?
             WHERE enrollment_id = ? AND hash <> ? AND retire_at IS NULL`,
          )
          .run(retireAt.getTime(), enrollmentId, keepHash).changes,
    );
  },
  async blockEnrollment(io, input) {
    const b = core.checkBlock(io.limits, input);
    await io.write(() =>
      io
        .stmt(
          `INSERT INTO enrollment_blocks (enrollment_id, actor, reason, blocked_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (enrollment_id) DO UPDATE SET actor = excluded.actor, reason = excluded.reason,
             blocked_at = excluded.blocked_at`,
        )
        .run(b.enrollmentId, b.actor, b.reason, b.blockedAt.getTime()),
    );
    return b;
  },
  async unblockEnrollment(io, enrollmentId) {
    key(io, 'enrollment id', enrollmentId);
    return io.write(
      () => io.stmt('DELETE FROM enrollment_blocks WHERE enrollment_id = ?').run(enrollmentId).changes > 0,
    );
  },
  async getEnrollmentBlock(io, enrollmentId) {
    key(io, 'enrollment id', enrollmentId);
    const row = await io.read(
      () =>
        io
          .stmt(`SELECT ${core.blockColumns} FROM enrollment_blocks WHERE enrollment_id = ?`)
          .get(enrollmentId) as core.BlockRow | undefined,
    );
    return row ? core.toBlock(row) : undefined;
  },
};
