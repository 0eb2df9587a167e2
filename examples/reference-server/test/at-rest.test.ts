import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { plaintextsIn } from '@mdmkit/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { api, freshDirs, type ServerProcess, startServer } from './helpers';

describe('mdmkit-server secrets at rest and fixed settings', () => {
  const dirs = freshDirs();
  const apiToken = 'fixed-admin-token-Zq81Lw0Rn5Xc2Vb';
  const enrollToken = 'enroll-only-with-this-Qp4';
  let server: ServerProcess;
  let observer: string;

  afterAll(async () => {
    await server?.stop();
  });

  it('takes --api-token (also as Basic password) and guards /mdm/enroll with --enroll-token', async () => {
    server = await startServer(
      ['--data-dir', dirs.dataDir, '--kek-file', dirs.kekFile, '--enroll-token', enrollToken],
      { MDMKIT_API_TOKEN: apiToken },
    );
    expect(server.printedToken).toBeUndefined();
    expect((await api(server, 'GET', '/api/v1/me', apiToken)).json).toMatchObject({
      user: 'admin',
      role: 'admin',
    });
    const basic = await server.fetch(`${server.url}/api/v1/me`, {
      headers: { authorization: `Basic ${Buffer.from(`nanomdm:${apiToken}`).toString('base64')}` },
    });
    expect(basic.status).toBe(200);
    expect((await server.fetch(`${server.url}/mdm/enroll`)).status).toBe(403);
    expect((await server.fetch(`${server.url}/mdm/enroll?token=${enrollToken}x`)).status).toBe(403);
    expect((await server.fetch(`${server.url}/mdm/enroll?token=${enrollToken}`)).status).toBe(200);
    observer = (await api(server, 'POST', '/api/v1/users', apiToken, { name: 'olga', role: 'observer' })).json
      .token;
    expect(observer).toMatch(/^mdmk_/);
  });

  it('keeps no token, private key or key-encryption key in the data directory', async () => {
    const code = await server.stop();
    expect(code, server.stderr()).toBe(0);
    const files = readdirSync(dirs.dataDir, { recursive: true, withFileTypes: true }).filter((f) =>
      f.isFile(),
    );
    expect(files.map((f) => f.name)).toContain('mdmkit.db');
    expect(existsSync(dirs.kekFile)).toBe(true);
    const kek = JSON.parse(readFileSync(dirs.kekFile, 'utf8')) as unknown;
    const kekText = JSON.stringify(kek);
    for (const f of files) {
      const bytes = readFileSync(join(f.parentPath ?? (f as unknown as { path: string }).path, f.name));
      expect(plaintextsIn(bytes, [apiToken, observer, enrollToken]), f.name).toEqual([]);
      expect(bytes.includes(Buffer.from('PRIVATE KEY')), `${f.name} holds a PEM private key`).toBe(false);
      for (const secret of kekText.match(/"[A-Za-z0-9+/=_-]{40,}"/g) ?? []) {
        expect(bytes.includes(Buffer.from(secret.slice(1, -1))), `${f.name} holds the KEK`).toBe(false);
      }
    }
  });
});
