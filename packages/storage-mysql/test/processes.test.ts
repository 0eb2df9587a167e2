import { fileURLToPath } from 'node:url';
import { runMultiProcessConformance, tsxChildCommand } from '@mdmkit/storage/conformance';
import { uniqueName } from '@mdmkit/test-support';
import { describe } from 'vitest';
import { createMysqlStorage } from '../src/index';
import { admin, mysqlAvailable, urlFor } from './peer';

if (mysqlAvailable()) {
  runMultiProcessConformance('mysql', async () => {
    const database = uniqueName('mdmkit_mp');
    await admin(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    return {
      open: () => createMysqlStorage({ url: urlFor(database), poolSize: 2 }),
      childCommand: tsxChildCommand(fileURLToPath(new URL('./child.ts', import.meta.url))),
      childEnv: { MDMKIT_MYSQL_DATABASE: database },
      destroy: () => admin(`DROP DATABASE IF EXISTS ${database}`),
    };
  });
} else {
  describe.skip('storage conformance across processes: mysql', () => {});
}
