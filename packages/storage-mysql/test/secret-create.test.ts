import { uniqueName } from '@mdmkit/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { createMysqlStorage } from '../src/index';
import { admin, mysqlAvailable, urlFor } from './peer';

const databases: string[] = [];

// A create-only put (expectedVersion 0) must fail like any other write when a value does not fit
// its column: it must never store a truncated key under which the caller cannot find it again.
describe.runIf(mysqlAvailable())('mysql: create-only secret writes keep strict mode', () => {
  afterAll(async () => {
    for (const d of databases) await admin(`DROP DATABASE IF EXISTS ${d}`);
  });

  it('rejects an owner longer than the column and stores nothing, as a plain put does', async () => {
    const database = uniqueName('mdmkit_secret_create');
    databases.push(database);
    await admin(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    // Limits above the schema's VARCHAR(255) keys: the database is then the last check.
    const s = await createMysqlStorage({ url: urlFor(database), poolSize: 2, limits: { maxKeyLength: 400 } });
    try {
      const owner = `${'a'.repeat(255)}-long`;
      const sealed = new Uint8Array([1, 2, 3]);
      const plain = await s.putSecret({ owner, kind: 'k', sealed }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const createOnly = await s.putSecret({ owner, kind: 'k', sealed, expectedVersion: 0 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(plain).toBeInstanceOf(Error);
      expect(createOnly).toBeInstanceOf(Error);
      expect((createOnly as { code?: string }).code).toBe((plain as { code?: string }).code);
      expect((createOnly as { code?: string }).code).not.toBe('CONFLICT');
      expect((await s.listSecrets()).items).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
