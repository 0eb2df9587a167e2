import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCertificate } from '@mdmkit/crypto';
import { requirePeer } from '@mdmkit/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, type Netns, waitForPort } from './netns';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = resolve(here, '../../../node_modules/.bin/tsx');
const ok =
  requirePeer(
    { name: 'scepserver', probe: ['scepserver', '-version'] },
    'ScepClient against Debian scepserver',
  ) &&
  requirePeer(
    { name: 'ip (iproute2)', probe: ['ip', 'netns', 'list'] },
    'ScepClient against Debian scepserver',
  );
// scepserver listens on every interface: it only ever runs inside a namespace that has nothing but loopback.
const ns: Netns | string = ok ? createNetns() : 'peer missing';
if (ok && typeof ns === 'string') console.warn(`SKIPPED ScepClient against Debian scepserver: ${ns}`);

describe.skipIf(typeof ns === 'string')(
  'ScepClient enrolls against Debian scepserver (private netns)',
  () => {
    const net = ns as Netns;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mdmkit-scepserver-'));
      const init = spawnSync(
        'scepserver',
        ['ca', '-init', '-depot', join(dir, 'depot'), '-keySize', '2048'],
        {
          encoding: 'utf8',
        },
      );
      expect(init.status, init.stderr).toBe(0);
      net.spawn('scepserver', [
        '-depot',
        join(dir, 'depot'),
        '-port',
        '8080',
        '-challenge',
        'peer-secret',
        '-allowrenew',
        '0',
      ]);
      await waitForPort(net, 8080);
    });
    afterAll(() => {
      net.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    it('PKCSReq, RenewalReq, DES3/SHA-1, wrong challenge and a wrong pin', () => {
      const ca = parseCertificate(readFileSync(join(dir, 'depot', 'ca.pem'), 'utf8'));
      const r = net.run(
        tsx,
        [
          '--conditions=mdmkit-source',
          join(here, 'fixtures', 'ns-client.ts'),
          'http://127.0.0.1:8080/scep',
          'peer-secret',
          ca.fingerprintSha256,
        ],
        { cwd: resolve(here, '..'), timeoutMs: 90_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(out.error).toBeUndefined();
      expect(out.caps).toContain('POSTPKIOperation');
      const issued = parseCertificate(out.first.pem);
      expect(issued.subject.get('CN')).toBe('mdmkit-client');
      expect(issued.subject.get('O')).toBe('mdmkit');
      expect(issued.issuer.toString()).toBe(ca.subject.toString());
      expect(out.renewed.subject).toContain('CN=mdmkit-client');
      expect(out.renewed.serial).not.toBe(out.first.serial);
      expect(out.des3.serial).toMatch(/^[0-9a-f]+$/);
      expect(out.wrong).toEqual({ code: 'REQUEST_FAILED', failInfo: 'badRequest' });
      expect(out.pin).toBe('FINGERPRINT_MISMATCH');
    });
  },
);
