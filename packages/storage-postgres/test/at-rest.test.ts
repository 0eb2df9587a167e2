import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createStaticKeyProvider, sealSecret } from '@mdmkit/crypto';
import {
  PLAINTEXT_SECRETS,
  plaintextsIn,
  postgresTestUrl,
  uniqueName,
  writeSealedSecrets,
} from '@mdmkit/test-support';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index';
import { postgresAvailable } from './peer';

const url = postgresTestUrl();
const schemas: string[] = [];

/** pg_dump of the schema (plain SQL: bytea as hex, text as is), plus a SELECT of every table. */
async function dump(schema: string): Promise<Buffer> {
  const parts: Buffer[] = [
    execFileSync('pg_dump', ['--dbname', url, '--schema', schema, '--no-owner'], { maxBuffer: 1 << 28 }),
  ];
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    );
    for (const { table_name } of rows) {
      const r = await c.query(`SELECT * FROM ${schema}.${table_name}`);
      for (const row of r.rows as Record<string, unknown>[]) {
        for (const v of Object.values(row)) parts.push(Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
      }
    }
  } finally {
    await c.end();
  }
  return Buffer.concat(parts);
}

describe.runIf(postgresAvailable())('postgres: secrets at rest', () => {
  afterAll(async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.end();
  });

  async function written(seal: Parameters<typeof writeSealedSecrets>[1]): Promise<Buffer> {
    const schema = uniqueName('mdmkit_rest');
    schemas.push(schema);
    const s = await createPostgresStorage({ url, schema, poolSize: 2 });
    try {
      await writeSealedSecrets(s, seal);
      expect((await s.listSecrets({ owner: 'UDID-AT-REST' })).items).toHaveLength(2);
    } finally {
      await s.close();
    }
    return dump(schema);
  }

  it('leaves no plaintext secret in pg_dump or in any table', async () => {
    const provider = createStaticKeyProvider(randomBytes(32));
    const bytes = await written((plain, owner, kind) => sealSecret(plain, { provider, owner, kind }));
    expect(bytes.includes(Buffer.from('UDID-AT-REST'))).toBe(true);
    expect(plaintextsIn(bytes)).toEqual([]);
  });

  it('the search finds a plaintext that was stored unsealed (the check can fail)', async () => {
    expect(plaintextsIn(await written(async (plain) => plain))).toEqual([...PLAINTEXT_SECRETS]);
  });
});
