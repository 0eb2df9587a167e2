import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createStaticKeyProvider, sealSecret } from '@mdmkit/crypto';
import {
  mysqlTestUrl,
  PLAINTEXT_SECRETS,
  plaintextsIn,
  uniqueName,
  writeSealedSecrets,
} from '@mdmkit/test-support';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { createMysqlStorage } from '../src/index';
import { admin, mysqlAvailable, urlFor } from './peer';

const databases: string[] = [];

/** mysqldump of the database (blobs as escaped binary), plus a SELECT of every table. */
async function dump(database: string): Promise<Buffer> {
  const u = new URL(mysqlTestUrl());
  const args = ['-h', u.hostname, '-P', u.port || '3306', '-u', decodeURIComponent(u.username), database];
  const env = { ...process.env, MYSQL_PWD: decodeURIComponent(u.password) };
  const parts: Buffer[] = [execFileSync('mysqldump', args, { env, maxBuffer: 1 << 28 })];
  const c = await mysql.createConnection(urlFor(database));
  try {
    const [tables] = await c.query<mysql.RowDataPacket[]>('SHOW TABLES');
    for (const t of tables) {
      const [rows] = await c.query<mysql.RowDataPacket[]>(`SELECT * FROM \`${String(Object.values(t)[0])}\``);
      for (const row of rows) {
        for (const v of Object.values(row)) parts.push(Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
      }
    }
  } finally {
    await c.end();
  }
  return Buffer.concat(parts);
}

describe.runIf(mysqlAvailable())('mysql: secrets at rest', () => {
  afterAll(async () => {
    for (const d of databases) await admin(`DROP DATABASE IF EXISTS ${d}`);
  });

  async function written(seal: Parameters<typeof writeSealedSecrets>[1]): Promise<Buffer> {
    const database = uniqueName('mdmkit_rest');
    databases.push(database);
    await admin(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const s = await createMysqlStorage({ url: urlFor(database), poolSize: 2 });
    try {
      await writeSealedSecrets(s, seal);
      expect((await s.listSecrets({ owner: 'UDID-AT-REST' })).items).toHaveLength(2);
    } finally {
      await s.close();
    }
    return dump(database);
  }

  it('leaves no plaintext secret in mysqldump or in any table', async () => {
    const provider = createStaticKeyProvider(randomBytes(32));
    const bytes = await written((plain, owner, kind) => sealSecret(plain, { provider, owner, kind }));
    expect(bytes.includes(Buffer.from('UDID-AT-REST'))).toBe(true);
    expect(plaintextsIn(bytes)).toEqual([]);
  });

  it('the search finds a plaintext that was stored unsealed (the check can fail)', async () => {
    expect(plaintextsIn(await written(async (plain) => plain))).toEqual([...PLAINTEXT_SECRETS]);
  });
});
