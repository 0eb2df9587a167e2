import { isStorageError, StorageError } from '@mdmkit/storage';
import { postgresTestUrl, uniqueName } from '@mdmkit/test-support';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage, type PostgresStorage, redactUrl } from '../src/index';
import { openDatabase, type PgDatabase, transaction } from '../src/pool';
import { postgresAvailable } from './peer';

const url = postgresTestUrl();

describe('redactUrl', () => {
  it('hides passwords in the authority and in query parameters', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/mdm')).toBe('postgres://app:***@db:5432/mdm');
    expect(redactUrl('postgres://db/mdm?password=s3cret&sslmode=require')).not.toContain('s3cret');
    expect(redactUrl('postgres://app@db/mdm')).toBe('postgres://app@db/mdm');
    expect(redactUrl('not a url with s3cret')).not.toContain('s3cret');
  });
});

describe('start-up errors', () => {
  it('names the URL without its password when the server does not answer', async () => {
    const err = await createPostgresStorage({
      url: 'postgres://mdm:s3cret@127.0.0.1:1/mdm',
      connectTimeoutMs: 2_000,
    }).catch((e: unknown) => e);
    expect(isStorageError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('postgres://mdm:***@127.0.0.1:1/mdm');
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await expect(createPostgresStorage({ url, schema: 'x; DROP TABLE y' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});

describe.skipIf(!postgresAvailable())('PostgreSQL faults', () => {
  const schema = uniqueName('mdmkit_faults');
  let db: PgDatabase;
  let storage: PostgresStorage;
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on('error', () => {});

  beforeAll(async () => {
    storage = await createPostgresStorage({ url, schema, poolSize: 4, applicationName: schema });
    db = await openDatabase({ url, schema, poolSize: 2 });
    await db.pool.query('CREATE TABLE fault_probe (id int PRIMARY KEY)');
  });

  afterAll(async () => {
    await storage?.close();
    await db?.pool.end();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
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
    expect((err as StorageError).retryable).toBe(true);
    // an ambiguous socket error is not retried blindly: the caller decides
    expect(attempts).toBe(1);
    const { rows } = await db.pool.query('SELECT id FROM fault_probe');
    expect(rows).toEqual([]);
    // the pool replaced the dead connection
    await transaction(db, 'again', (tx) => tx.query('INSERT INTO fault_probe (id) VALUES (3)'));
    expect((await db.pool.query('SELECT id FROM fault_probe')).rows).toEqual([{ id: 3 }]);
    await db.pool.query('DELETE FROM fault_probe');
  });

  it('never half-stores a transaction whose session the server kills', async () => {
    let attempts = 0;
    const outcome = await transaction(db, 'killed', async (tx) => {
      attempts++;
      await tx.query('INSERT INTO fault_probe (id) VALUES (4)');
      if (attempts === 1) {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      }
      await tx.query('INSERT INTO fault_probe (id) VALUES (5)');
      return 'committed';
    }).catch((e: unknown) => e);
    const { rows } = await db.pool.query<{ id: number }>('SELECT id FROM fault_probe ORDER BY id');
    if (outcome === 'committed') {
      // the termination arrived as 57P01 and the whole transaction ran again on a new connection
      expect(attempts).toBe(2);
      expect(rows.map((r) => r.id)).toEqual([4, 5]);
    } else {
      expect(isStorageError(outcome, 'UNAVAILABLE')).toBe(true);
      expect(rows).toEqual([]);
    }
    await db.pool.query('DELETE FROM fault_probe');
  });

  it('keeps working after its connections are killed', async () => {
    await storage.authenticate({ id: 'killed-1' });
    const killed = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [schema],
    );
    expect(killed.rowCount).toBeGreaterThan(0);
    await storage.enqueueCommand({ uuid: `${schema}-c1`, requestType: 'X', payload: new Uint8Array([1]) }, [
      'killed-1',
    ]);
    const r = await storage
      .recordResult({ enrollmentId: 'killed-1', commandUuid: `${schema}-c1`, status: 'Acknowledged' })
      .catch(() =>
        storage.recordResult({
          enrollmentId: 'killed-1',
          commandUuid: `${schema}-c1`,
          status: 'Acknowledged',
        }),
      );
    expect(['stored', 'duplicate']).toContain(r.outcome);
    expect(await storage.getResults(`${schema}-c1`)).toHaveLength(1);
  });

  it('retries serialization failures and deadlocks, then gives up with BUSY', async () => {
    let attempts = 0;
    const value = await transaction(db, 'retry', async (tx) => {
      attempts++;
      await tx.query('INSERT INTO fault_probe (id) VALUES (10)');
      if (attempts < 3) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(attempts).toBe(3);
    // the failed attempts were rolled back: exactly one row 10
    expect((await db.pool.query('SELECT count(*)::int AS n FROM fault_probe WHERE id = 10')).rows[0].n).toBe(
      1,
    );

    attempts = 0;
    const err = await transaction(db, 'deadlock', async () => {
      attempts++;
      throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
    }).catch((e: unknown) => e);
    expect(isStorageError(err, 'BUSY')).toBe(true);
    expect(attempts).toBeGreaterThan(1);
  });

  it('refuses a schema newer than the adapter with MIGRATION_FAILED', async () => {
    const newer = uniqueName('mdmkit_newer');
    const s = await createPostgresStorage({ url, schema: newer, poolSize: 1 });
    await s.close();
    try {
      await admin.query(
        `INSERT INTO ${newer}.mdmkit_migrations (version, name, applied_at) VALUES (999, 'future', now())`,
      );
      await expect(createPostgresStorage({ url, schema: newer, poolSize: 1 })).rejects.toMatchObject({
        code: 'MIGRATION_FAILED',
      });
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${newer} CASCADE`);
    }
  });

  it('fans one command out to 20,000 enrollments in one call', async () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `fan-${i}`);
    await storage.enqueueCommand(
      { uuid: `${schema}-fan`, requestType: 'X', payload: new Uint8Array([7]) },
      ids,
    );
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM queue q JOIN commands c ON c.seq = q.command_seq WHERE c.command_uuid = $1`,
      [`${schema}-fan`],
    );
    expect(rows[0]!.n).toBe(20_000);
    expect((await storage.nextCommand('fan-19999'))?.uuid).toBe(`${schema}-fan`);
  });

  it('rejects text the database cannot store with a typed error', async () => {
    await expect(storage.authenticate({ id: 'nul\u0000byte' })).rejects.toBeInstanceOf(StorageError);
  });
});
