import type { AuditEventStore, SecretStore } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import { query, transaction, type Tx } from './pool';

const columns = core.secretColumns.replace('version', 'version::int AS version');

async function versionOf(tx: Tx, owner: string, kind: string): Promise<number> {
  const { rows } = await tx.query<{ version: number }>(
    'SELECT version FROM secrets WHERE owner = $1 AND kind = $2',
    [owner, kind],
  );
  return rows[0]?.version ?? 0;
}

export const secretStore: core.WithContext<Ctx, SecretStore & AuditEventStore> = {
  async getSecret(ctx, owner, kind) {
    core.checkSecretKey(ctx.limits, owner, kind);
    const { rows } = await query<core.SecretRow & Record<string, unknown>>(
      ctx.db,
      'getSecret',
      `SELECT ${columns} FROM secrets WHERE owner = $1 AND kind = $2`,
      [owner, kind],
    );
    return rows[0] ? core.toSecret(rows[0]) : undefined;
  },
  /** Each case is one statement whose WHERE or conflict clause is the compare-and-set. */
  async putSecret(ctx, input) {
    core.checkPutSecret(ctx.limits, input);
    const { owner, kind, sealed, expectedVersion } = input;
    const now = new Date();
    return transaction(ctx.db, 'putSecret', async (tx) => {
      let sql: string;
      if (expectedVersion === undefined) {
        sql = `INSERT INTO secrets (owner, kind, sealed, version, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $4)
               ON CONFLICT (owner, kind) DO UPDATE SET sealed = EXCLUDED.sealed, version = secrets.version + 1,
                 updated_at = EXCLUDED.updated_at RETURNING ${columns}`;
      } else if (expectedVersion === 0) {
        sql = `INSERT INTO secrets (owner, kind, sealed, version, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $4)
               ON CONFLICT (owner, kind) DO NOTHING RETURNING ${columns}`;
      } else {
        sql = `UPDATE secrets SET sealed = $3, version = version + 1, updated_at = $4
               WHERE owner = $1 AND kind = $2 AND version = $5 RETURNING ${columns}`;
      }
      const params = [owner, kind, sealed, now, ...(expectedVersion ? [expectedVersion] : [])];
      const { rows } = await tx.query<core.SecretRow & Record<string, unknown>>(sql, params);
      if (!rows[0])
        throw core.secretConflict(owner, kind, await versionOf(tx, owner, kind), expectedVersion!);
      return core.toSecret(rows[0]);
    });
  },
  async deleteSecret(ctx, owner, kind, expectedVersion) {
    core.checkSecretKey(ctx.limits, owner, kind);
    core.checkExpectedVersion(expectedVersion);
    return transaction(ctx.db, 'deleteSecret', async (tx) => {
      const version = await versionOf(tx, owner, kind);
      if (expectedVersion !== undefined && version !== expectedVersion) {
        throw core.secretConflict(owner, kind, version, expectedVersion);
      }
      const r = await tx.query(
        `DELETE FROM secrets WHERE owner = $1 AND kind = $2${expectedVersion === undefined ? '' : ' AND version = $3'}`,
        expectedVersion === undefined ? [owner, kind] : [owner, kind, expectedVersion],
      );
      if (expectedVersion !== undefined && version > 0 && r.rowCount === 0) {
        // replaced between the read and the delete
        throw core.secretConflict(owner, kind, await versionOf(tx, owner, kind), expectedVersion);
      }
      return (r.rowCount ?? 0) > 0;
    });
  },
  async listSecrets(ctx, options) {
    const q = core.secretListQuery(ctx.limits, options);
    const { rows } = await query<core.SecretRow & Record<string, unknown>>(
      ctx.db,
      'listSecrets',
      `SELECT ${columns} FROM secrets
       WHERE ($1::text IS NULL OR owner = $1::text) AND ($2::text IS NULL OR kind = $2::text)
         AND ($3::text IS NULL OR owner > $3::text OR (owner = $3::text AND kind > $4::text))
       ORDER BY owner, kind LIMIT $5`,
      [q.owner, q.kind, q.afterOwner, q.afterKind, q.limit + 1],
    );
    return core.secretPage(rows, q.limit);
  },
  async appendAuditEvent(ctx, event) {
    const e = core.checkAuditEvent(ctx.limits, event);
    // Ids are handed out before commit, so two appends could commit out of id order and a reader
    // following the log with `after` would step past the slower one for good. The table lock
    // (EXCLUSIVE: plain reads go on, every other writer waits) makes ids commit in order.
    return transaction(ctx.db, 'appendAuditEvent', async (tx) => {
      await tx.query('LOCK TABLE audit_events IN EXCLUSIVE MODE');
      const { rows } = await tx.query<core.AuditRow & Record<string, unknown>>(
        `INSERT INTO audit_events (actor, action, owner, kind, reason, at) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING ${core.auditColumns.replace('id', 'id::text AS id')}`,
        [e.actor, e.action, e.owner, e.kind, e.reason, e.at],
      );
      return core.toAuditEvent(rows[0]!);
    });
  },
  async listAuditEvents(ctx, options) {
    const q = core.auditListQuery(options);
    const { rows } = await query<core.AuditRow & Record<string, unknown>>(
      ctx.db,
      'listAuditEvents',
      `SELECT ${core.auditColumns.replace('id', 'id::text AS id')} FROM audit_events
       WHERE id > $1 AND ($2::text IS NULL OR owner = $2::text) AND ($3::text IS NULL OR actor = $3::text)
       ORDER BY audit_events.id LIMIT $4`,
      [q.afterId, q.owner, q.actor, q.limit + 1],
    );
    return core.auditPage(rows, q.limit);
  },
};
