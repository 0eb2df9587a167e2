import { checkDate, checkKey, type LifecycleStores } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import { query, transaction } from './pool';

type Row<T> = T & Record<string, unknown>;
const key = (ctx: Ctx, what: string, v: unknown): void => checkKey(what, v, ctx.limits.maxKeyLength);
const statusColumns = core.ddmStatusColumns.replace('id', 'id::text AS id');

export const lifecycleStore: core.WithContext<Ctx, LifecycleStores> = {
  async putDeclarationSet(ctx, name, declarations, at) {
    core.checkDeclarationSet(ctx.limits, name, declarations, at);
    const t = new Date(at ?? Date.now());
    await query(
      ctx.db,
      'putDeclarationSet',
      `INSERT INTO declaration_sets (name, declarations, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET declarations = EXCLUDED.declarations, updated_at = EXCLUDED.updated_at`,
      [name, declarations, t],
    );
    return { name, declarations, updatedAt: t };
  },
  async getDeclarationSet(ctx, name) {
    key(ctx, 'declaration set name', name);
    const { rows } = await query<Row<core.DeclarationSetRow>>(
      ctx.db,
      'getDeclarationSet',
      `SELECT ${core.declarationSetColumns} FROM declaration_sets WHERE name = $1`,
      [name],
    );
    return rows[0] ? core.toDeclarationSet(rows[0]) : undefined;
  },
  async deleteDeclarationSet(ctx, name) {
    key(ctx, 'declaration set name', name);
    return transaction(ctx.db, 'deleteDeclarationSet', async (tx) => {
      await tx.query('DELETE FROM declaration_assignments WHERE set_name = $1', [name]);
      const r = await tx.query('DELETE FROM declaration_sets WHERE name = $1', [name]);
      return (r.rowCount ?? 0) > 0;
    });
  },
  async assignDeclarationSet(ctx, name, enrollmentIds) {
    const ids = core.checkAssignment(ctx.limits, name, enrollmentIds);
    if (ids.length === 0) return;
    await query(
      ctx.db,
      'assignDeclarationSet',
      `INSERT INTO declaration_assignments (set_name, enrollment_id)
       SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
      [name, ids],
    );
  },
  async unassignDeclarationSet(ctx, name, enrollmentIds) {
    const ids = core.checkAssignment(ctx.limits, name, enrollmentIds);
    if (ids.length === 0) return 0;
    const r = await query(
      ctx.db,
      'unassignDeclarationSet',
      'DELETE FROM declaration_assignments WHERE set_name = $1 AND enrollment_id = ANY($2::text[])',
      [name, ids],
    );
    return r.rowCount ?? 0;
  },
  async declarationSetsOf(ctx, enrollmentId) {
    key(ctx, 'enrollment id', enrollmentId);
    const { rows } = await query<{ set_name: string }>(
      ctx.db,
      'declarationSetsOf',
      'SELECT set_name FROM declaration_assignments WHERE enrollment_id = $1 ORDER BY set_name',
      [enrollmentId],
    );
    return rows.map((r) => r.set_name);
  },
  async enrollmentsWithDeclarationSet(ctx, name, options = {}) {
    key(ctx, 'declaration set name', name);
    const limit = core.pageLimit(options.limit);
    const { rows } = await query<{ enrollment_id: string }>(
      ctx.db,
      'enrollmentsWithDeclarationSet',
      `SELECT enrollment_id FROM declaration_assignments
       WHERE set_name = $1 AND ($2::text IS NULL OR enrollment_id > $2::text) ORDER BY enrollment_id LIMIT $3`,
      [name, options.after ?? null, limit + 1],
    );
    return core.keyedPage(
      rows.map((r) => r.enrollment_id),
      limit,
      (id) => id,
    );
  },
  async appendDdmStatus(ctx, enrollmentId, report, at) {
    core.checkDdmStatus(ctx.limits, enrollmentId, report, at);
    const t = new Date(at ?? Date.now());
    const { rows } = await query<{ id: string }>(
      ctx.db,
      'appendDdmStatus',
      'INSERT INTO ddm_status (enrollment_id, report, received_at) VALUES ($1, $2, $3) RETURNING id::text AS id',
      [enrollmentId, report, t],
    );
    let n = 0;
    await query(
      ctx.db,
      'trimDdmStatus',
      core.trimDdmStatusSql.replace(/\?/g, () => `$${++n}`),
      [enrollmentId, enrollmentId],
    );
    return { id: rows[0]!.id, enrollmentId, report, receivedAt: t };
  },
  async listDdmStatus(ctx, enrollmentId, options = {}) {
    key(ctx, 'enrollment id', enrollmentId);
    const before = core.statusCursor(options.after) ?? null;
    const limit = core.pageLimit(options.limit);
    const { rows } = await query<Row<core.DdmStatusRow>>(
      ctx.db,
      'listDdmStatus',
      `SELECT ${statusColumns} FROM ddm_status WHERE enrollment_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
       ORDER BY ddm_status.id DESC LIMIT $3`,
      [enrollmentId, before, limit + 1],
    );
    return core.ddmStatusPage(rows, limit);
  },
  async putIdentityCertificate(ctx, r) {
    core.checkIdentityCertificate(ctx.limits, r);
    await query(
      ctx.db,
      'putIdentityCertificate',
      `INSERT INTO identity_certificates (hash, enrollment_id, not_after, trust, retire_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (hash) DO UPDATE SET enrollment_id = EXCLUDED.enrollment_id, not_after = EXCLUDED.not_after,
         trust = EXCLUDED.trust, retire_at = EXCLUDED.retire_at`,
      [r.hash, r.enrollmentId, r.notAfter, r.trust, r.retireAt ?? null],
    );
  },
  async getIdentityCertificate(ctx, hash) {
    core.checkCertHash(hash);
    const { rows } = await query<Row<core.IdentityCertificateRow>>(
      ctx.db,
      'getIdentityCertificate',
      `SELECT ${core.identityCertificateColumns} FROM identity_certificates WHERE hash = $1`,
      [hash],
    );
    return rows[0] ? core.toIdentityCertificate(rows[0]) : undefined;
  },
  async listExpiringIdentityCertificates(ctx, before, options = {}) {
    checkDate('before', before);
    const limit = core.pageLimit(options.limit);
    const { rows } = await query<Row<core.IdentityCertificateRow>>(
      ctx.db,
      'listExpiringIdentityCertificates',
      `SELECT ${core.identityCertificateColumns} FROM identity_certificates
       WHERE retire_at IS NULL AND not_after < $1 AND ($2::text IS NULL OR hash > $2::text) ORDER BY hash LIMIT $3`,
      [before, options.after ?? null, limit + 1],
    );
    return core.keyedPage(rows.map(core.toIdentityCertificate), limit, (r) => r.hash);
  },
  async retireIdentityCertificates(ctx, enrollmentId, keepHash, retireAt) {
    core.checkRetire(ctx.limits, enrollmentId, keepHash, retireAt);
    const r = await query(
      ctx.db,
      'retireIdentityCertificates',
      `UPDATE identity_certificates SET retire_at = $1
       WHERE enrollment_id = $2 AND hash <> $3 AND retire_at IS NULL`,
      [retireAt, enrollmentId, keepHash],
    );
    return r.rowCount ?? 0;
  },
  async blockEnrollment(ctx, input) {
    const b = core.checkBlock(ctx.limits, input);
    await query(
      ctx.db,
      'blockEnrollment',
      `INSERT INTO enrollment_blocks (enrollment_id, actor, reason, blocked_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (enrollment_id) DO UPDATE SET actor = EXCLUDED.actor, reason = EXCLUDED.reason,
         blocked_at = EXCLUDED.blocked_at`,
      [b.enrollmentId, b.actor, b.reason, b.blockedAt],
    );
    return b;
  },
  async unblockEnrollment(ctx, enrollmentId) {
    key(ctx, 'enrollment id', enrollmentId);
    const r = await query(
      ctx.db,
      'unblockEnrollment',
      'DELETE FROM enrollment_blocks WHERE enrollment_id = $1',
      [enrollmentId],
    );
    return (r.rowCount ?? 0) > 0;
  },
  async getEnrollmentBlock(ctx, enrollmentId) {
    key(ctx, 'enrollment id', enrollmentId);
    const { rows } = await query<Row<core.BlockRow>>(
      ctx.db,
      'getEnrollmentBlock',
      `SELECT ${core.blockColumns} FROM enrollment_blocks WHERE enrollment_id = $1`,
      [enrollmentId],
    );
    return rows[0] ? core.toBlock(rows[0]) : undefined;
  },
};
