import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStorageConformance } from '@mdmkit/storage/conformance';
import Database from 'better-sqlite3';
import { createSqliteStorage } from '../src/index';

// The SQL adapters carry every optional store: their sections fail here rather than skip.
const required = { requireCapabilities: ['dep', 'secrets', 'outbox', 'lifecycle'] } as const;

runStorageConformance(
  'sqlite file',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mdmkit-sqlite-'));
    const path = join(dir, 'mdm.sqlite');
    return {
      open: (o) => createSqliteStorage({ path, ...o }),
      destroy: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  required,
);

// one in-memory connection shared by every handle: the embedded, no-file configuration
runStorageConformance(
  'sqlite :memory:',
  async () => {
    const database = new Database(':memory:');
    return {
      open: (o) => createSqliteStorage({ database, ...o }),
      destroy: async () => {
        database.close();
      },
    };
  },
  required,
);
