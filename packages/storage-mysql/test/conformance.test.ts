import { runStorageConformance } from '@mdmkit/storage/conformance';
import { uniqueName } from '@mdmkit/test-support';
import { describe } from 'vitest';
import { createMysqlStorage } from '../src/index';
import { admin, mysqlAvailable, urlFor } from './peer';

if (mysqlAvailable()) {
  runStorageConformance(
    'mysql',
    async () => {
      const database = uniqueName('mdmkit_cf');
      await admin(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      return {
        open: (o) => createMysqlStorage({ url: urlFor(database), poolSize: 2, ...o }),
        destroy: () => admin(`DROP DATABASE IF EXISTS ${database}`),
      };
    },
    { requireCapabilities: ['dep', 'secrets', 'outbox', 'lifecycle'] },
  );
} else {
  describe.skip('storage conformance: mysql', () => {});
}
