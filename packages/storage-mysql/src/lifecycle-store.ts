import { checkDate, checkKey, type LifecycleStores } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type mysql from 'mysql2/promise';
import type { Ctx } from './context';
import { execute, type Header, transaction } from './pool';

type Rows = mysql.RowDataPacket[];
const key = (ctx: Ctx, what: string, v: unknown): void => checkKey(what, v, ctx.limits.maxKeyLength);
const marks = (n: number, one: string): string => Array.from({ length: n }, () => one).join(', ');

export const lifecycleStore: core.WithContext<Ctx, LifecycleStores> = {
  async putDeclarationSet(ctx, name, declarations, at) {
    core.checkDeclarationSet(ctx.limits, name, declarations, at);
    const t = new Date(at ?? Date.now());
    await execute<Header>(
      ctx.db,
      'putDeclarationSet',
      `INSERT INTO declaration_sets (name, declarations, updated_at) VALUES (?, ?, ?)
       ON DUPLICATE KEY UPDATE declarations = VALUES(declarations), updated_at = VALUES(updated_at)`,
      [name, declarations, t],
    );
    return { name, declarations, updatedAt: t };
  },
  async getDeclarationSet(ctx, name) {
    key(ctx, 'declaration set name', name);
    const rows = await execute<Rows>(
      ctx.db,
      'getDeclarationSet',
      `SELECT ${core.declarationSetColumns} FROM declaration_sets WHERE name = ?`,
      [name],
    );
    return rows[0] ? core.toDeclarationSet(rows[0] as core.DeclarationSetRow) : undefined;
  },
  async deleteDeclarationSet(ctx, name) {
    key(ctx, 'declaration set name', name);
    return transaction(ctx.db, 'deleteDeclarationSet', async (tx) => {
      await tx.execute('DELETE FROM declaration_assignments WHERE set_name = ?', [name]);
      const [r] = await tx.execute<Header>('DELETE FROM declaration_sets WHERE name = ?', [name]);
      return r.affectedRows > 0;
    });
  },
  async assignDeclarationSet(ctx, name, enrollmentIds) {
    const ids = core.checkAssignment(ctx.limits, name, enrollmentIds);
    if (ids.length === 0) return;
    await execute<Header>(
      ctx.db,
      'assignDeclarationSet',
      `INSERT INTO declaration_assignments (set_name, enrollment_id) VALUES ${marks(ids.length, '(?, ?)')}
       ON DUPLICATE KEY UPDATE set_name = set_name`,
      ids.flatMap((id) => [name, id]),
    );
  },
  async unassignDeclarationSet(ctx, name, enrollmentIds) {
    const ids = core.checkAssignment(ctx.limits, name, enrollmentIds);
    if (ids.length === 0) return 0;
    const r = await execute<Header>(
      ctx.db,
      'unassignDeclarationSet',
      `DELETE FROM declaration_assignments WHERE set_name = ? AND enrollment_id IN (${marks(ids.length, '?')})`,
      [name, ...ids],
    );
    return r.affectedRows;
  },
  async declarationSetsOf(ctx, enrollmentId) {
    key(ctx, 'enrollment id', enrollmentId);
    const rows = await execute<Rows>(
      ctx.db,
      'declarationSetsOf',
      'SELECT set_name FROM declaration_assignments WHERE enrollment_id = ? ORDER BY set_name',
      [enrollmentId],
    );
    return rows.map((r) => String(r.set_name));
  },
  async enrollmentsWithDeclarationSet(ctx, name, options = {}) {
    key(ctx, 'declaration set name', name);
    const limit = core.pageLimit(options.limit);
    const rows = await execute<Rows>(
      ctx.db,
      'enrollmentsWithDeclarationSet',
      `SELECT enrollment_id FROM declaration_assignments
       WHERE set_name = ? AND (? IS NULL OR enrollment_id > ?) ORDER BY enrollment_id LIMIT ${limit + 1}`,
      [name, options.after ?? null, options.after ?? null],
    );
    return core.keyedPage(
      rows.map((r) => String(r.enrollment_id)),
      limit,
      (id) => id,
    );
  },
  async appendDdmStatus(ctx, enrollmentId, report, at) {
    core.checkDdmStatus(ctx.limits, enrollmentId, report, at);
    const t = new Date(at ?? Date.now());
    const r = await execute<Header>(
      ctx.db,
      'appendDdmStatus',
      'INSERT INTO ddm_status (enrollment_id, report, received_at) VALUES (?, ?, ?)',
      [enrollmentId, report, t],
    );
    await execute<Header>(ctx.db, 'trimDdmStatus', core.trimDdmStatusSql, [enrollmentId, enrollmentId]);
    return { id: String(r.insertId), enrollmentId, report, receivedAt: t };
  },
  async listDdmStatus(ctx, enrollmentId, options = {}) {
    key(ctx, 'enrollment id', enrollmentId);
    const before = core.statusCursor(options.after) ?? null;
    const limit = core.pageLimit(options.limit);
    const rows = await execute<Rows>(
      ctx.db,
      'listDdmStatus',
      `SELECT ${core.ddmStatusColumns} FROM ddm_status WHERE enrollment_id = ? AND (? IS NULL OR id < ?)
       ORDER BY id DESC LIMIT ${limit + 1}`,
      [enrollmentId, before, before],
    );
    return core.ddmStatusPage(rows as core.DdmStatusRow[], limit);
  },
  async putIdentityCertificate(ctx, r) {
    core.checkIdentityCertificate(ctx.limits, r);
    await execute<Header>(
      ctx.db,
      'putIdentityCertificate',
      `INSERT INTO identity_certificates (hash, enrollment_id, not_after, trust, retire_at) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE enrollment_id = VALUES(enrollment_id), not_after = VALUES(not_after),
         trust = VALUES(trust), retire_at = VALUES(retire_at)`,
      [r.hash, r.enrollmentId, r.notAfter, r.trust, r.retireAt ?? null],
    );
  },
  async getIdentityCertificate(ctx, hash) {
    core.checkCertHash(hash);
    const rows = await execute<Rows>(
      ctx.db,
      'getIdentityCertificate',
      `SELECT ${core.identityCertificateColumns} FROM identity_certificates WHERE hash = ?`,
      [hash],
    );
    return rows[0] ? core.toIdentityCertificate(rows[0] as core.IdentityCertificateRow) : undefined;
  },
  async listExpiringIdentityCertificates(ctx, before, options = {}) {
    checkDate('before', before);
    const limit = core.pageLimit(options.limit);
    const rows = await execute<Rows>(
      ctx.db,
      'listExpiringIdentityCertificates',
      `SELECT ${core.identityCertificateColumns} FROM identity_certificates
       WHERE retire_at IS NULL AND not_after < ? AND (? IS NULL OR hash > ?) ORDER BY hash LIMIT ${limit + 1}`,
      [before, options.after ?? null, options.after ?? null],
    );
    return core.keyedPage(
      (rows as core.IdentityCertificateRow[]).map(core.toIdentityCertificate),
      limit,
      (r) => r.hash,
    );
  },
  async retireIdentityCertificates(ctx, enrollmentId, keepHash, retireAt) {
    core.checkRetire(ctx.limits, enrollmentId, keepHash, retireAt);
    const r = await execute<Header>(
      ctx.db,
      'retireIdentityCertificates',
      `UPDATE identity_certificates SET retire_at = ?
       WHERE enrollment_id = ? AND hash <> ? AND retire_at IS NULL`,
      [retireAt, enrollmentId, keepHash],
    );
    return r.affectedRows;
  },
  async blockEnrollment(ctx, input) {
    const b = core.checkBlock(ctx.limits, input);
    await execute<Header>(
      ctx.db,
      'blockEnrollment',
      `INSERT INTO enrollment_blocks (enrollment_id, actor, reason, blocked_at) VALUES (?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE actor = VALUES(actor), reason = VALUES(reason), blocked_at = VALUES(blocked_at)`,
      [b.enrollmentId, b.actor, b.reason, b.blockedAt],
    );
    return b;
  },
  async unblockEnrollment(ctx, enrollmentId) {
    key(ctx, 'enrollment id', enrollmentId);
    const r = await execute<Header>(
      ctx.db,
      'unblockEnrollment',
      'DELETE FROM enrollment_blocks WHERE enrollment_id = ?',
      [enrollmentId],
    );
    return r.affectedRows > 0;
  },
  async getEnrollmentBlock(ctx, enrollmentId) {
    key(ctx, 'enrollment id', enrollmentId);
    const rows = await execute<Rows>(
      ctx.db,
      'getEnrollmentBlock',
      `SELECT ${core.blockColumns} FROM enrollment_blocks WHERE enrollment_id = ?`,
      [enrollmentId],
    );
    return rows[0] ? core.toBlock(rows[0] as core.BlockRow) : undefined;
  },
};
