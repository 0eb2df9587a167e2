import type { AuditEventStore, SecretStore } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type mysql from 'mysql2/promise';
import type { Ctx } from './context';
import { buf, execute, type Header, transaction, type Tx } from './pool';

type Rows = mysql.RowDataPacket[];

async function current(tx: Tx, owner: string, kind: string): Promise<core.SecretRow | undefined> {
  const [rows] = await tx.execute<Rows>(
    `SELECT ${core.secretColumns} FROM secrets WHERE owner = ? AND kind = ?`,
    [owner, kind],
  );
  return rows[0] as core.SecretRow | undefined;
}

export const secretStore: core.WithContext<Ctx, SecretStore & AuditEventStore> = {
  async getSecret(ctx, owner, kind) {
    core.checkSecretKey(ctx.limits, owner, kind);
    const rows = await execute<Rows>(
      ctx.db,
      'getSecret',
      `SELECT ${core.secretColumns} FROM secrets WHERE owner = ? AND kind = ?`,
      [owner, kind],
    );
    return rows[0] ? core.toSecret(rows[0] as core.SecretRow) : undefined;
  },
  /** Each case is one statement whose WHERE or key is the compare-and-set; the row is read back in the same transaction. */
  async putSecret(ctx, input) {
    core.checkPutSecret(ctx.limits, input);
    const { owner, kind, expectedVersion } = input;
    const sealed = buf(input.sealed);
    const now = new Date();
    return transaction(ctx.db, 'putSecret', async (tx) => {
      let r: Header;
      if (expectedVersion === undefined) {
        [r] = await tx.execute<Header>(
          `INSERT INTO secrets (owner, kind, sealed, version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)
           ON DUPLICATE KEY UPDATE sealed = VALUES(sealed), version = version + 1, updated_at = VALUES(updated_at)`,
          [owner, kind, sealed, now, now],
        );
      } else if (expectedVersion === 0) {
        // A plain INSERT, not INSERT IGNORE: IGNORE also turns strict mode's "too long" errors into
        // silent truncation, which would store the secret under a key nobody asked for.
        try {
          [r] = await tx.execute<Header>(
            'INSERT INTO secrets (owner, kind, sealed, version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)',
            [owner, kind, sealed, now, now],
          );
        } catch (e) {
          if ((e as { code?: unknown }).code !== 'ER_DUP_ENTRY') throw e;
          r = { affectedRows: 0 } as Header;
        }
      } else {
        [r] = await tx.execute<Header>(
          'UPDATE secrets SET sealed = ?, version = version + 1, updated_at = ? WHERE owner = ? AND kind = ? AND version = ?',
          [sealed, now, owner, kind, expectedVersion],
        );
      }
      const row = await current(tx, owner, kind);
      if (r.affectedRows === 0 || !row)
        throw core.secretConflict(owner, kind, Number(row?.version ?? 0), expectedVersion!);
      return core.toSecret(row);
    });
  },
  async deleteSecret(ctx, owner, kind, expectedVersion) {
    core.checkSecretKey(ctx.limits, owner, kind);
    core.checkExpectedVersion(expectedVersion);
    return transaction(ctx.db, 'deleteSecret', async (tx) => {
      const [rows] = await tx.execute<Rows>(
        'SELECT version FROM secrets WHERE owner = ? AND kind = ? FOR UPDATE',
        [owner, kind],
      );
      const version = Number(rows[0]?.version ?? 0);
      if (expectedVersion !== undefined && version !== expectedVersion) {
        throw core.secretConflict(owner, kind, version, expectedVersion);
      }
      const [r] = await tx.execute<Header>('DELETE FROM secrets WHERE owner = ? AND kind = ?', [owner, kind]);
      return r.affectedRows > 0;
    });
  },
  async listSecrets(ctx, options) {
    const q = core.secretListQuery(ctx.limits, options);
    const rows = await execute<Rows>(
      ctx.db,
      'listSecrets',
      `SELECT ${core.secretColumns} FROM secrets
       WHERE (? IS NULL OR owner = ?) AND (? IS NULL OR kind = ?)
         AND (? IS NULL OR owner > ? OR (owner = ? AND kind > ?))
       ORDER BY owner, kind LIMIT ${q.limit + 1}`,
      [q.owner, q.owner, q.kind, q.kind, q.afterOwner, q.afterOwner, q.afterOwner, q.afterKind],
    );
    return core.secretPage(rows as core.SecretRow[], q.limit);
  },
  async appendAuditEvent(ctx, event) {
    const e = core.checkAuditEvent(ctx.limits, event);
    // AUTO_INCREMENT ids are handed out before commit, so two appends could commit out of id order
    // and a reader following the log with `after` would step past the slower one for good. Locking
    // the newest row first (it waits for an uncommitted newer insert) makes ids commit in order.
    const r = await transaction(ctx.db, 'appendAuditEvent', async (tx) => {
      await tx.query('SELECT id FROM audit_events ORDER BY id DESC LIMIT 1 FOR UPDATE');
      const [header] = await tx.execute<Header>(
        'INSERT INTO audit_events (actor, action, owner, kind, reason, at) VALUES (?, ?, ?, ?, ?, ?)',
        [e.actor, e.action, e.owner, e.kind, e.reason, e.at],
      );
      return header;
    });
    return { id: core.auditId(r.insertId), ...e, at: new Date(e.at) };
  },
  async listAuditEvents(ctx, options) {
    const q = core.auditListQuery(options);
    const rows = await execute<Rows>(
      ctx.db,
      'listAuditEvents',
      `SELECT ${core.auditColumns} FROM audit_events
       WHERE id > ? AND (? IS NULL OR owner = ?) AND (? IS NULL OR actor = ?)
       ORDER BY id LIMIT ${q.limit + 1}`,
      [q.afterId, q.owner, q.owner, q.actor, q.actor],
    );
    return core.auditPage(rows as core.AuditRow[], q.limit);
  },
};
