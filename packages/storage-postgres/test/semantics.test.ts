import { postgresTestUrl, uniqueName } from '@mdmkit/test-support';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage, type PostgresStorage } from '../src/index';
import { openDatabase, query, transaction } from '../src/pool';
import { postgresAvailable } from './peer';

const url = postgresTestUrl();
const bytes = (s: string) => new TextEncoder().encode(s);

describe.skipIf(!postgresAvailable())('PostgreSQL storage semantics', () => {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on('error', () => {});
  const schema = uniqueName('mdmkit_sem');
  // a database whose own default isolation is not the one the adapter is written for
  const database = uniqueName('mdmkit_iso');
  const isoUrl = (() => {
    const u = new URL(url);
    u.pathname = `/${database}`;
    return u.toString();
  })();
  let storage: PostgresStorage;

  beforeAll(async () => {
    storage = await createPostgresStorage({ url, schema, poolSize: 2 });
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.query(`ALTER DATABASE ${database} SET default_transaction_isolation = 'serializable'`);
  });

  afterAll(async () => {
    await storage?.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('keeps one result per (enrollment, command) in the schema itself', async () => {
    await storage.enqueueCommand({ uuid: 'cmd-1', requestType: 'DeviceInformation', payload: bytes('c') }, [
      'UDID-1',
    ]);
    await storage.recordResult({
      enrollmentId: 'UDID-1',
      commandUuid: 'cmd-1',
      status: 'Acknowledged',
      payload: bytes('r'),
    });
    // a second row for the same pair, written around the adapter, is refused by the database
    const err = await admin
      .query(
        `INSERT INTO ${schema}.results (enrollment_id, command_uuid, request_type, status, payload, received_at)
         VALUES ('UDID-1', 'cmd-1', 'DeviceInformation', 'Acknowledged', '\\x00', now())`,
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '23505' });
    expect(await storage.getResults('cmd-1')).toHaveLength(1);
  });

  it('migrates a database holding duplicate results to one result per pair, keeping the first', async () => {
    const old = uniqueName('mdmkit_sem_old');
    const s = await createPostgresStorage({ url, schema: old, poolSize: 2 });
    try {
      // the state version 1 could leave: no unique key, two rows for one pair
      await admin.query(`DROP INDEX ${old}.results_command_enrollment`);
      await admin.query(`CREATE INDEX results_command ON ${old}.results (command_uuid, enrollment_id)`);
      await admin.query(`DELETE FROM ${old}.mdmkit_migrations WHERE version = 2`);
      for (const payload of ['first', 'second']) {
        await admin.query(
          `INSERT INTO ${old}.results (enrollment_id, command_uuid, request_type, status, payload, received_at)
           VALUES ('UDID-1', 'cmd-dup', 'DeviceInformation', 'Acknowledged', $1, now())`,
          [Buffer.from(payload)],
        );
      }
      const report = await s.migrate();
      expect(report.applied).toEqual([2]);
      const results = await s.getResults('cmd-dup');
      expect(results.map((r) => Buffer.from(r.payload).toString())).toEqual(['first']);
    } finally {
      await s.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${old} CASCADE`);
    }
  });

  it('migrates many copies of one pair in about linear time, keeping the first', async () => {
    const old = uniqueName('mdmkit_sem_many');
    const s = await createPostgresStorage({ url, schema: old, poolSize: 2 });
    try {
      await admin.query(`DROP INDEX ${old}.results_command_enrollment`);
      await admin.query(`CREATE INDEX results_command ON ${old}.results (command_uuid, enrollment_id)`);
      await admin.query(`DELETE FROM ${old}.mdmkit_migrations WHERE version = 2`);
      await admin.query(
        `INSERT INTO ${old}.results (enrollment_id, command_uuid, request_type, status, payload, received_at)
         SELECT 'UDID-1', 'cmd-many', 'DeviceInformation', 'Acknowledged', int4send(g), now()
         FROM generate_series(1, 5000) g`,
      );
      await admin.query(`ANALYZE ${old}.results`);
      const start = Date.now();
      const report = await s.migrate();
      // comparing every copy with every other one took 9 s here
      expect(Date.now() - start).toBeLessThan(4_000);
      expect(report.applied).toEqual([2]);
      const results = await s.getResults('cmd-many');
      expect(results.map((r) => Buffer.from(r.payload).readInt32BE())).toEqual([1]);
    } finally {
      await s.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${old} CASCADE`);
    }
  }, 60_000);

  it('runs at READ COMMITTED whatever the database default is', async () => {
    const probe = new pg.Client({ connectionString: isoUrl });
    await probe.connect();
    const serverDefault = (await probe.query('SHOW transaction_isolation')).rows[0].transaction_isolation;
    await probe.end();
    expect(serverDefault).toBe('serializable');

    const db = await openDatabase({ url: isoUrl, poolSize: 1 });
    try {
      const single = await query<{ transaction_isolation: string }>(
        db,
        'probe',
        'SHOW transaction_isolation',
      );
      expect(single.rows[0]!.transaction_isolation).toBe('read committed');
      const inTx = await transaction(
        db,
        'probe',
        async (tx) => (await tx.query('SHOW transaction_isolation')).rows[0].transaction_isolation,
      );
      expect(inTx).toBe('read committed');
    } finally {
      await db.pool.end();
    }
  });
});
