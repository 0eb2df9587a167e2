import { fileURLToPath } from 'node:url';
import { runMultiProcessConformance, tsxChildCommand } from '@mdmkit/storage/conformance';
import { postgresTestUrl, uniqueName } from '@mdmkit/test-support';
import pg from 'pg';
import { describe } from 'vitest';
import { createPostgresStorage } from '../src/index';
import { postgresAvailable } from './peer';

const url = postgresTestUrl();

if (postgresAvailable()) {
  runMultiProcessConformance('postgres', async () => {
    const schema = uniqueName('mdmkit_mp');
    return {
      open: () => createPostgresStorage({ url, schema, poolSize: 2 }),
      childCommand: tsxChildCommand(fileURLToPath(new URL('./child.ts', import.meta.url))),
      childEnv: { MDMKIT_PG_SCHEMA: schema },
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
  });
} else {
  describe.skip('storage conformance across processes: postgres', () => {});
}
