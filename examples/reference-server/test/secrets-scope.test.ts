import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDirs, type ServerProcess, startServer } from './helpers';

describe("the device-secret route opens device secrets only, never the server's own keys", () => {
  let server: ServerProcess;
  let admin: string;

  beforeAll(async () => {
    const { dataDir, kekFile } = freshDirs();
    server = await startServer(['--data-dir', dataDir, '--kek-file', kekFile]);
    admin = server.printedToken!;
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  const read = (owner: string, kind: string) =>
    server.fetch(
      `${server.url}/api/v1/enrollments/${encodeURIComponent(owner)}/secrets/${encodeURIComponent(kind)}`,
      {
        headers: { authorization: `Bearer ${admin}`, 'x-mdmkit-reason': 'attack: exfiltrate server keys' },
      },
    );

  for (const [owner, kind] of [
    ['mdmkit-server', 'scep-ca'],
    ['mdmkit-server', 'profile-signer'],
    ['mdmkit-server:users', 'admin'],
    ['mdmkit:filevault-escrow', 'identity'],
  ] as const) {
    it(`refuses ${owner}/${kind} with a typed 4xx and no key material`, async () => {
      const res = await read(owner, kind);
      const text = await res.text();
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(text).not.toContain('PRIVATE KEY');
      expect(JSON.parse(text).error.code).toMatch(/^(NOT_FOUND|BAD_REQUEST)$/);
    });
  }
});
