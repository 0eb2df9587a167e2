import type { RecordResultResponse } from '@mdmkit/storage';
import { uniqueName } from '@mdmkit/test-support';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { MysqlStorage, mysqlMigrations } from '../src/index';
import { openDatabase } from '../src/pool';
import { admin, mysqlAvailable, urlFor } from './peer';

const bytes = (s: string) => new TextEncoder().encode(s);
const databases: string[] = [];

/** A raw connection outside the storage's pool, as another process would have. */
function connect(database: string): Promise<mysql.Connection> {
  const u = new URL(urlFor(database));
  return mysql.createConnection({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database,
  });
}

/**
 * A second process, played by a raw connection: it finishes C1 and C2 for DEV in one transaction
 * and keeps that transaction open, so the queue rows stay locked until `commit()`.
 */
async function holdFinishedCommands(
  database: string,
): Promise<{ conn: mysql.Connection; commit(): Promise<void> }> {
  const conn = await connect(database);
  await conn.query('START TRANSACTION');
  for (const uuid of ['C1', 'C2']) {
    await conn.query(
      `DELETE q FROM queue q JOIN commands c ON c.seq = q.command_seq
       WHERE q.enrollment_id = 'DEV' AND c.command_uuid = ?`,
      [uuid],
    );
    await conn.query(
      `INSERT INTO results (enrollment_id, command_uuid, request_type, status, payload, received_at)
       VALUES ('DEV', ?, 'ProfileList', 'Acknowledged', '', NOW(3))`,
      [uuid],
    );
  }
  return { conn, commit: () => conn.query('COMMIT').then(() => undefined) };
}

/**
 * Resolves once the report's DELETE of the queue row is running on the server: the holder keeps that
 * row locked, so the statement is then waiting for it. The interleaving is observed on the server
 * rather than guessed with a sleep. (MariaDB's INNODB_TRX lists only the asking transaction, so the
 * process list is what shows the waiting statement.) A report that settles before it is seen waiting
 * ends the watch at once: its own error surfaces, or the fact that it never touched the held row.
 */
async function reportWaiting(
  conn: mysql.Connection,
  database: string,
  report: Promise<unknown>,
): Promise<void> {
  let settled = false;
  report.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
       WHERE DB = ? AND ID <> CONNECTION_ID() AND INFO LIKE 'DELETE FROM queue WHERE%'`,
      [database],
    );
    if (Number(rows[0]?.n) > 0) return;
    if (settled) {
      const r = await report;
      throw new Error(`recordResult answered ${JSON.stringify(r)} without waiting for the held queue row`);
    }
    if (Date.now() > deadline) throw new Error('recordResult never waited for the held queue row');
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Isolation = 'READ COMMITTED' | 'REPEATABLE READ';

/**
 * A migrated storage with DEV holding C1, C2 and C3. The adapter sets READ COMMITTED on every
 * connection it opens; `REPEATABLE READ` puts its connections back to the server default, as a
 * connection whose session setting did not hold (a pooling proxy that does not keep session state)
 * would run, so the procedure and the client-side path must be right without relying on it.
 */
async function freshStorage(isolation: Isolation): Promise<{ s: MysqlStorage; database: string }> {
  const database = uniqueName('mdmkit_record_race');
  databases.push(database);
  await admin(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const db = await openDatabase({ url: urlFor(database), poolSize: 2 });
  if (isolation === 'REPEATABLE READ') {
    const setting = 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ';
    // Runs after the adapter's own setup on every new connection, and on the ones already open.
    db.pool.on('connection', (c) => {
      (c as unknown as { query(sql: string, cb: () => void): void }).query(setting, () => {});
    });
    const open = [await db.pool.getConnection(), await db.pool.getConnection()];
    for (const c of open) {
      await c.query(setting);
      c.release();
    }
  }
  const s = new MysqlStorage(db);
  try {
    await s.migrate();
    await s.tokenUpdate({ id: 'DEV', channel: 'device', topic: 't', pushToken: 'aa', pushMagic: 'm' });
    for (const uuid of ['C1', 'C2', 'C3']) {
      await s.enqueueCommand({ uuid, requestType: 'ProfileList', payload: bytes('<plist/>') }, ['DEV']);
    }
  } catch (e) {
    // The caller closes the storage only once it has it; a failed setup must not leave the pool open.
    await s.close();
    throw e;
  }
  return { s, database };
}

/**
 * Reports C1 while another transaction that finished C1 and C2 holds their queue rows, and lets
 * that transaction commit only once the report is seen waiting. The report is then a duplicate
 * and the next command is C3: answering from a snapshot fixed before the wait would say `unknown`
 * (no result yet) and hand out C1 again, whose result the other process has already stored.
 */
async function reportDuringHeldLock(
  s: MysqlStorage,
  database: string,
  withEvents: boolean,
): Promise<RecordResultResponse> {
  const holder = await holdFinishedCommands(database);
  try {
    const pending = s.recordResult({
      enrollmentId: 'DEV',
      status: 'Acknowledged',
      commandUuid: 'C1',
      payload: bytes('late'),
      ...(withEvents ? { outbox: [{ id: 'ack-C1', topic: 'mdm.Ack', payload: bytes('{}') }] } : {}),
    });
    // Keep an early failure of the call from surfacing as an unhandled rejection while we wait;
    // reportWaiting rethrows it.
    pending.catch(() => {});
    await reportWaiting(holder.conn, database, pending);
    await holder.commit();
    return await pending;
  } finally {
    await holder.conn.end();
  }
}

describe.runIf(mysqlAvailable())(
  'mysql: recordResult while another process finishes the same command',
  () => {
    afterAll(async () => {
      for (const d of databases) await admin(`DROP DATABASE IF EXISTS ${d}`);
    });

    for (const isolation of ['READ COMMITTED', 'REPEATABLE READ'] as const) {
      for (const [path, withEvents] of [
        ['the stored procedure', false],
        ['the client-side transaction (report with outbox events)', true],
      ] as const) {
        it(`answers duplicate and the next unfinished command through ${path}, sessions at ${isolation}`, async () => {
          const { s, database } = await freshStorage(isolation);
          try {
            const r = await reportDuringHeldLock(s, database, withEvents);
            expect({ outcome: r.outcome, next: r.next?.uuid }).toEqual({ outcome: 'duplicate', next: 'C3' });
            // The late report stored nothing over the other process's result.
            expect((await s.getResults('C1')).map((x) => new TextDecoder().decode(x.payload))).toEqual(['']);
            expect((await s.listQueue('DEV')).map((e) => e.uuid)).toEqual(['C3']);
          } finally {
            await s.close();
          }
        });
      }
    }

    // The interleaving above is the one that broke schema version 1: with the version-1 procedure put
    // back, the same steps give the stale answer, so the tests above cannot pass by never racing.
    it('gives the stale answer with the schema version 1 procedure, sessions at REPEATABLE READ', async () => {
      const { s, database } = await freshStorage('REPEATABLE READ');
      const procedure = mysqlMigrations[0]?.up.find((sql) => sql.startsWith('CREATE PROCEDURE')) ?? '';
      expect(procedure).toContain('START TRANSACTION;');
      const c = await connect(database);
      try {
        await c.query('DROP PROCEDURE IF EXISTS mdmkit_record_result');
        await c.query(procedure);
      } finally {
        await c.end();
      }
      try {
        const r = await reportDuringHeldLock(s, database, false);
        expect({ outcome: r.outcome, next: r.next?.uuid }).toEqual({ outcome: 'unknown', next: 'C1' });
      } finally {
        await s.close();
      }
    });
  },
);
