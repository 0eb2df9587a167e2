import type { AuditEventStore, SecretStore } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { SqliteIo } from './io';

function current(io: SqliteIo, owner: string, kind: string): core.SecretRow | undefined {
  return io.stmt(`SELECT ${core.secretColumns} FROM secrets WHERE owner = ? AND kind = ?`).get(owner, kind) as
    | core.SecretRow
    | undefined;
}

export const secretStore: core.WithContext<SqliteIo, SecretStore & AuditEventStore> = {
  async getSecret(io, owner, kind) {
    core.checkSecretKey(io.limits, owner, kind);
    const row = await io.read(() => current(io, owner, kind));
    return row ? core.toSecret(row) : undefined;
  },
  async putSecret(io, input) {
    core.checkPutSecret(io.limits, input);
    const { owner, kind, expectedVersion } = input;
    const sealed = Buffer.from(input.sealed);
    return io.write(() => {
      const now = Date.now();
      const version = Number(current(io, owner, kind)?.version ?? 0);
      if (expectedVersion !== undefined && version !== expectedVersion) {
        throw core.secretConflict(owner, kind, version, expectedVersion);
      }
      io.stmt(
        `INSERT INTO secrets (owner, kind, sealed, version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)
         ON CONFLICT (owner, kind) DO UPDATE SET sealed = excluded.sealed, version = version + 1, updated_at = excluded.updated_at`,
      ).run(owner, kind, sealed, now, now);
      return core.toSecret(current(io, owner, kind)!);
    });
  },
  async deleteSecret(io, owner, kind, expectedVersion) {
    core.checkSecretKey(io.limits, owner, kind);
    core.checkExpectedVersion(expectedVersion);
    return io.write(() => {
      const version = Number(current(io, owner, kind)?.version ?? 0);
      if (expectedVersion !== undefined && version !== expectedVersion) {
        throw core.secretConflict(owner, kind, version, expectedVersion);
      }
      return io.stmt('DELETE FROM secrets WHERE owner = ? AND kind = ?').run(owner, kind).changes > 0;
    });
  },
  async listSecrets(io, options) {
    const q = core.secretListQuery(io.limits, options);
    const rows = await io.read(() =>
      io
        .stmt(
          `SELECT ${core.secretColumns} FROM secrets
           WHERE (? IS NULL OR owner = ?) AND (? IS NULL OR kind = ?)
             AND (? IS NULL OR owner > ? OR (owner = ? AND kind > ?))
           ORDER BY owner, kind LIMIT ?`,
        )
        .all(
          q.owner,
          q.owner,
          q.kind,
          q.kind,
          q.afterOwner,
          q.afterOwner,
          q.afterOwner,
          q.afterKind,
          q.limit + 1,
        ),
    );
    return core.secretPage(rows as core.SecretRow[], q.limit);
  },
  async appendAuditEvent(io, event) {
    const e = core.checkAuditEvent(io.limits, event);
    const id = await io.write(
      () =>
        io
          .stmt('INSERT INTO audit_events (actor, action, owner, kind, reason, at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(e.actor, e.action, e.owner, e.kind, e.reason, e.at.getTime()).lastInsertRowid,
    );
    return { id: core.auditId(id), ...e, at: new Date(e.at) };
  },
  async listAuditEvents(io, options) {
    const q = core.auditListQuery(options);
    const rows = await io.read(() =>
      io
        .stmt(
          `SELECT ${core.auditColumns} FROM audit_events
           WHERE id > ? AND (? IS NULL OR owner = ?) AND (? IS NULL OR actor = ?)
           ORDER BY id LIMIT ?`,
        )
        .all(q.afterId, q.owner, q.owner, q.actor, q.actor, q.limit + 1),
    );
    return core.auditPage(rows as core.AuditRow[], q.limit);
  },
};
