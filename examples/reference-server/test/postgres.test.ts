import { postgresReachable, postgresTestUrl, uniqueName } from '@mdmkit/test-support';
import { createPostgresStorage } from '@mdmkit/storage-postgres';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { serverScenario } from './scenario';

const ok = postgresReachable('mdmkit-server on PostgreSQL');
const schema = uniqueName('mdmkit_server');

describe.skipIf(!ok)('PostgreSQL', () => {
  const url = new URL(postgresTestUrl());
  url.searchParams.set('schema', schema);
  serverScenario(
    'PostgreSQL',
    () => ['--storage', url.href],
    () => createPostgresStorage({ url: postgresTestUrl(), schema }),
  );

  afterAll(async () => {
    const client = new pg.Client({ connectionString: postgresTestUrl() });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await client.end();
    }
  });
});
