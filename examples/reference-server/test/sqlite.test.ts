import { join } from 'node:path';
import { createSqliteStorage } from '@mdmkit/storage-sqlite';
import { serverScenario } from './scenario';

serverScenario(
  'SQLite (the embedded default)',
  () => [],
  (dataDir) => createSqliteStorage({ path: join(dataDir, 'mdmkit.db') }),
);
