import { reasonsSeenByFollower, uniqueName } from '@mdmkit/test-support';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { createMysqlStorage } from '../src/index';
import { admin, mysqlAvailable, urlFor } from './peer';

const databases: string[] = [];

// A reader that follows the log with `after: <last id seen>` must never miss an event: an id handed
// out to a writer that commits later than a writer with a higher id would fall behind the reader.
describe.runIf(mysqlAvailable())('mysql: audit events become visible in id order', () => {
  afterAll(async () => {
    for (const d of databases) await admin(`DROP DATABASE IF EXISTS ${d}`);
  });

  it('a reader following the log with after= sees an append that committed late', async () => {
    const database = uniqueName('mdmkit_audit_order');
    databases.push(database);
    await admin(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const s = await createMysqlStorage({ url: urlFor(database), poolSize: 3 });
    const other = await mysql.createConnection(urlFor(database));
    try {
      // Another writer (another process) takes an id and commits only after the store's append.
      const seen = await reasonsSeenByFollower(s, {
        insert: async () => {
          await other.query('BEGIN');
          await other.query(
            `INSERT INTO audit_events (actor, action, owner, kind, reason, at)
             VALUES ('bob', 'secret.read', 'UDID-1', 'prk', 'slow writer', UTC_TIMESTAMP(3))`,
          );
        },
        commit: async () => {
          await other.query('COMMIT');
        },
      });
      expect(seen).toEqual(['fast writer', 'slow writer']);
    } finally {
      await other.end();
      await s.close();
    }
  });
  it('many appends racing from two handles all land, each with its own id', async () => {
    const database = uniqueName('mdmkit_audit_race');
    databases.push(database);
    await admin(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const a = await createMysqlStorage({ url: urlFor(database), poolSize: 4 });
    const b = await createMysqlStorage({ url: urlFor(database), poolSize: 4 });
    try {
      const at = new Date();
      const ids = await Promise.all(
        Array.from({ length: 80 }, (_, i) =>
          (i % 2 ? a : b).appendAuditEvent({
            actor: 'x',
            action: 'secret.read',
            owner: 'U',
            kind: 'k',
            reason: `r${i}`,
            at,
          }),
        ),
      );
      expect(new Set(ids.map((e) => e.id)).size).toBe(80);
      expect((await a.listAuditEvents({ limit: 100 })).items).toHaveLength(80);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
