import { runStorageConformance } from '@mdmkit/storage/conformance';
import { postgresTestUrl, uniqueName } from '@mdmkit/test-support';
import pg from 'pg';
import { describe } from 'vitest';
import { createPostgresStorage } from '../src/index';
import { postgresAvailable } from './peer';

const url = postgresTestUrl();

if (postgresAvailable()) {
  runStorageConformance(
    'postgres',
    async () => {
      const schema = uniqueName('mdmkit_cf');
      return {
        open: (o) => createPostgresStorage({ url, schema, poolSize: 2, ...o }),
        destroy: async () => {
          const c = new pg.Client({ connectionString: url });
          await c.connect();
          try {
            await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          } finally {
            await c.end();
          }
        },
      };
    },
    { requireCapabilities: ['dep', 'secrets', 'outbox', 'lifecycle'] },
  );
} else {
  describe.skip('storage conformance: postgres', () => {});
}
