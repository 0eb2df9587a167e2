import { postgresTestUrl, reasonsSeenByFollower, uniqueName } from '@mdmkit/test-support';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index';
import { postgresAvailable } from './peer';

const url = postgresTestUrl();
const schemas: string[] = [];

// A reader that follows the log with `after: <last id seen>` must never miss an event: an id handed
// out to a writer that commits later than a writer with a higher id would fall behind the reader.
describe.runIf(postgresAvailable())('postgres: audit events become visible in id order', () => {
  afterAll(async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.end();
  });

  it('a reader following the log with after= sees an append that committed late', async () => {
    const schema = uniqueName('mdmkit_audit_order');
    schemas.push(schema);
    const s = await createPostgresStorage({ url, schema, poolSize: 3 });
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      // Another writer (another process) takes an id and commits only after the store's append.
      const seen = await reasonsSeenByFollower(s, {
        insert: async () => {
          await other.query('BEGIN');
          await other.query(`SET LOCAL search_path TO ${schema}`);
          await other.query(
            `INSERT INTO audit_events (actor, action, owner, kind, reason, at)
             VALUES ('bob', 'secret.read', 'UDID-1', 'prk', 'slow writer', now())`,
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
});
