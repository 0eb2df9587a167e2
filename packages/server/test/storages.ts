import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MdmStorage } from '@mdmkit/storage';
import { createPostgresStorage } from '@mdmkit/storage-postgres';
import { createSqliteStorage } from '@mdmkit/storage-sqlite';
import { postgresReachable, postgresTestUrl, uniqueName } from '@mdmkit/test-support';
import pg from 'pg';

export interface StorageFixture {
  name: string;
  available: boolean;
  open(): Promise<{ storage: MdmStorage; destroy(): Promise<void> }>;
}

/** The backends the end-to-end suite runs on: SQLite always, PostgreSQL where it runs (required in CI). */
export const STORAGES: StorageFixture[] = [
  {
    name: 'sqlite',
    available: true,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'mdmkit-server-'));
      const storage = await createSqliteStorage({ path: join(dir, 'mdm.db') });
      return {
        storage,
        async destroy() {
          await storage.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    available: postgresReachable('server end-to-end tests on PostgreSQL'),
    async open() {
      const url = postgresTestUrl();
      const schema = uniqueName('mdmkit_server');
      const storage = await createPostgresStorage({ url, schema, poolSize: 4 });
      return {
        storage,
        async destroy() {
          await storage.close();
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
  },
];
