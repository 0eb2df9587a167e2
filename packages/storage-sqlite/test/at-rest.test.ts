import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStaticKeyProvider, sealSecret } from '@mdmkit/crypto';
import { PLAINTEXT_SECRETS, plaintextsIn, writeSealedSecrets } from '@mdmkit/test-support';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index';

const dir = mkdtempSync(join(tmpdir(), 'mdmkit-at-rest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every row of every table, values as they are stored (blobs as bytes, text as UTF-8). */
function tableDump(path: string): Buffer {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    const parts: Buffer[] = [];
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
        for (const v of Object.values(row)) parts.push(Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
      }
    }
    return Buffer.concat(parts);
  } finally {
    db.close();
  }
}

describe('sqlite: secrets at rest', () => {
  it('leaves no plaintext secret in the database file, its WAL, or any table', async () => {
    const path = join(dir, 'secrets.sqlite');
    const s = await createSqliteStorage({ path });
    const provider = createStaticKeyProvider(randomBytes(32));
    await writeSealedSecrets(s, (plain, owner, kind) => sealSecret(plain, { provider, owner, kind }));
    // the dump is only meaningful if the sealed rows are there
    expect((await s.listSecrets({ owner: 'UDID-AT-REST' })).items).toHaveLength(2);
    const walBytes = Buffer.concat(
      readdirSync(dir)
        .filter((f) => f.startsWith('secrets.sqlite'))
        .map((f) => readFileSync(join(dir, f))),
    );
    await s.close();
    const fileBytes = readFileSync(path);
    const tables = tableDump(path);
    expect(tables.includes(Buffer.from('UDID-AT-REST'))).toBe(true);
    expect(plaintextsIn(walBytes)).toEqual([]);
    expect(plaintextsIn(fileBytes)).toEqual([]);
    expect(plaintextsIn(tables)).toEqual([]);
  });

  it('the search finds a plaintext that was stored unsealed (the check can fail)', async () => {
    const path = join(dir, 'plain.sqlite');
    const s = await createSqliteStorage({ path });
    await writeSealedSecrets(s, async (plain) => plain);
    await s.close();
    expect(plaintextsIn(readFileSync(path))).toEqual([...PLAINTEXT_SECRETS]);
    expect(plaintextsIn(tableDump(path))).toEqual([...PLAINTEXT_SECRETS]);
  });
});
