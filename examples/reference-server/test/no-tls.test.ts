import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { afterAll, describe, expect, it } from 'vitest';
import { api, freshDirs, type ServerProcess, startServer } from './helpers';

describe('mdmkit-server behind a TLS-terminating proxy (--no-tls)', () => {
  const dirs = freshDirs();
  let server: ServerProcess;

  afterAll(async () => {
    await server?.stop();
  });

  it('identifies devices by Mdm-Signature and ignores a client-certificate header from an untrusted peer', async () => {
    server = await startServer([
      '--data-dir',
      dirs.dataDir,
      '--kek-file',
      dirs.kekFile,
      '--no-tls',
      '--public-url',
      'https://mdm.example.com',
      '--trusted-proxy',
      '10.9.8.7',
    ]);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const local: typeof fetch = (input, init) =>
      server.fetch(
        String(input instanceof Request ? input.url : input).replace('https://mdm.example.com', server.url),
        init,
      );
    const profile = new Uint8Array(await (await local('https://mdm.example.com/mdm/enroll')).arrayBuffer());
    const mac = await VirtualDevice.enroll(profile, { fetch: local });
    expect(await mac.poll()).toEqual([]);
    // Unsigned, with a forged client-certificate header: we are not the trusted proxy, so it is ignored.
    const forged = await server.fetch(`${server.url}/mdm/connect`, {
      method: 'PUT',
      headers: { 'client-cert': ':MIIBAA==:' },
      body: '<plist><dict><key>Status</key><string>Idle</string></dict></plist>',
    });
    expect(forged.status).toBe(403);
    expect((await api(server, 'GET', '/health', undefined)).status).toBe(200);
  });
});
