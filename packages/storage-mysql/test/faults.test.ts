import { isStorageError, StorageError } from '@mdmkit/storage';
import { uniqueName } from '@mdmkit/test-support';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlStorage, type MysqlStorage, redactUrl } from '../src/index';
import { type MyDatabase, openDatabase, transaction } from '../src/pool';
import { admin, mysqlAvailable, urlFor } from './peer';

describe('redactUrl', () => {
  it('hides the password', () => {
    expect(redactUrl('mysql://app:s3cret@db:3306/mdm')).toBe('mysql://app:***@db:3306/mdm');
    expect(redactUrl('mysql://root@db/mdm')).toBe('mysql://root@db/mdm');
  });
});

describe('start-up errors', () => {
  it('names the URL without its password when the server does not answer', async () => {
    const err = await createMysqlStorage({
      url: 'mysql://mdm:s3cret@127.0.0.1:1/mdm',
      connectTimeoutMs: 2_000,
    }).catch((e: unknown) => e);
    expect(isStorageError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('mysql://mdm:***@127.0.0.1:1/mdm');
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('rejects a database name that is not a plain identifier', async () => {
    await expect(createMysqlStorage({ url: 'mysql://root@127.0.0.1/x;y' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});

describe.skipIf(!mysqlAvailable())('MySQL faults', () => {
  const database = uniqueName('mdmkit_faults');
  let db: MyDatabase;
  let storage: MysqlStorage;

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    storage = await createMysqlStorage({ url: urlFor(database), poolSize: 4 });
    db = await openDatabase({ url: urlFor(database), poolSize: 2 });
    await db.pool.query('CREATE TABLE fault_probe (id INT PRIMARY KEY) ENGINE=InnoDB');
  });

  afterAll(async () => {
    await storage?.close();
    await db?.pool.end();
    await admin(`DROP DATABASE IF EXISTS ${database}`);
  });

  it('fails cleanly with UNAVAILABLE when the connection drops mid-transaction, storing nothing', async () => {
    let attempts = 0;
    const err = await transaction(db, 'probe', async (tx) => {
      attempts++;
      await tx.query('INSERT INTO fault_probe (id) VALUES (1)');
      // the socket dies under the open transaction
      (tx as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      await tx.query('INSERT INTO fault_probe (id) VALUES (2)');
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('UNAVAILABLE');
    expect(attempts).toBe(1);
    const [rows] = await db.pool.query<mysql.RowDataPacket[]>('SELECT id FROM fault_probe');
    expect(rows).toEqual([]);
    await transaction(db, 'again', (tx) => tx.query('INSERT INTO fault_probe (id) VALUES (3)'));
    const [after] = await db.pool.query<mysql.RowDataPacket[]>('SELECT id FROM fault_probe');
    expect(after.map((r) => r.id)).toEqual([3]);
    await db.pool.query('DELETE FROM fault_probe');
  });

  it('never half-stores a transaction whose connection the server kills', async () => {
    let attempts = 0;
    const outcome = await transaction(db, 'killed', async (tx) => {
      attempts++;
      await tx.query('INSERT INTO fault_probe (id) VALUES (4)');
      if (attempts === 1) {
        const [rows] = await tx.query<mysql.RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
        await admin(`KILL CONNECTION ${Number(rows[0]!.id)}`);
      }
      await tx.query('INSERT INTO fault_probe (id) VALUES (5)');
      return 'committed';
    }).catch((e: unknown) => e);
    const [rows] = await db.pool.query<mysql.RowDataPacket[]>('SELECT id FROM fault_probe ORDER BY id');
    if (outcome === 'committed') {
      expect(attempts).toBe(2);
      expect(rows.map((r) => r.id)).toEqual([4, 5]);
    } else {
      expect(isStorageError(outcome, 'UNAVAILABLE')).toBe(true);
      expect(rows).toEqual([]);
    }
    await db.pool.query('DELETE FROM fault_probe');
  });

  it('retries deadlocks and lock wait timeouts, then gives up with BUSY', async () => {
    let attempts = 0;
    const value = await transaction(db, 'retry', async (tx) => {
      attempts++;
      await tx.query('INSERT INTO fault_probe (id) VALUES (10)');
      if (attempts < 3) throw Object.assign(new Error('Deadlock found'), { errno: 1213 });
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(attempts).toBe(3);
    const [rows] = await db.pool.query<mysql.RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM fault_probe WHERE id = 10',
    );
    expect(Number(rows[0]!.n)).toBe(1);

    attempts = 0;
    const err = await transaction(db, 'timeout', async () => {
      attempts++;
      throw Object.assign(new Error('Lock wait timeout exceeded'), { errno: 1205 });
    }).catch((e: unknown) => e);
    expect(isStorageError(err, 'BUSY')).toBe(true);
    expect(attempts).toBeGreaterThan(1);
  });

  it('survives a real deadlock between two transactions', async () => {
    await db.pool.query('INSERT INTO fault_probe (id) VALUES (100), (200)');
    const order = async (first: number, second: number) =>
      transaction(db, 'cross', async (tx) => {
        await tx.query('SELECT id FROM fault_probe WHERE id = ? FOR UPDATE', [first]);
        await new Promise((r) => setTimeout(r, 100));
        await tx.query('SELECT id FROM fault_probe WHERE id = ? FOR UPDATE', [second]);
        return first;
      });
    const done = await Promise.all([order(100, 200), order(200, 100)]);
    expect(done.sort()).toEqual([100, 200]);
  });

  it('refuses a database newer than the adapter with MIGRATION_FAILED', async () => {
    await db.pool.query(
      "INSERT INTO mdmkit_migrations (version, name, applied_at) VALUES (999, 'future', NOW(3))",
    );
    try {
      await expect(createMysqlStorage({ url: urlFor(database), poolSize: 1 })).rejects.toMatchObject({
        code: 'MIGRATION_FAILED',
      });
    } finally {
      await db.pool.query('DELETE FROM mdmkit_migrations WHERE version = 999');
    }
  });

  it('fans one command out to 20,000 enrollments in one call', async () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `fan-${i}`);
    await storage.enqueueCommand(
      { uuid: `${database}-fan`, requestType: 'X', payload: new Uint8Array([7]) },
      ids,
    );
    const [rows] = await db.pool.query<mysql.RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM queue q JOIN commands c ON c.seq = q.command_seq WHERE c.command_uuid = ?',
      [`${database}-fan`],
    );
    expect(Number(rows[0]!.n)).toBe(20_000);
    expect((await storage.nextCommand('fan-19999'))?.uuid).toBe(`${database}-fan`);
  });

  it('rejects payloads above the server packet limit with a typed error, not a crash', async () => {
    const small = await createMysqlStorage({
      url: urlFor(database),
      poolSize: 1,
      limits: { maxCommandBytes: 64 << 20 },
    });
    try {
      const err = await small
        .enqueueCommand({ uuid: `${database}-huge`, requestType: 'X', payload: new Uint8Array(20 << 20) }, [
          'h',
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect(['PAYLOAD_TOO_LARGE', 'UNAVAILABLE']).toContain((err as StorageError).code);
      expect(await small.nextCommand('h')).toBeUndefined();
    } finally {
      await small.close();
    }
  });
});
