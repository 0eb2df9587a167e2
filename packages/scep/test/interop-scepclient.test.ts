import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCertificate } from '@mdmkit/crypto';
import { requirePeer } from '@mdmkit/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningScepServer, serve } from '../src/index';

const ok = requirePeer(
  { name: 'scepclient', probe: ['scepclient', '-version'] },
  'Debian scepclient interop',
);

describe.skipIf(!ok)('Debian scepclient enrolls against mdmkit-scep', () => {
  let dir: string;
  let running: RunningScepServer;
  let caPem: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mdmkit-scep-'));
    running = await serve({
      host: '127.0.0.1',
      port: 0,
      caDir: join(dir, 'ca'),
      kekFile: join(dir, 'kek'),
      challenge: 'interop-secret',
      validityDays: 30,
      keySizes: [2048, 3072, 4096],
      caKeyBits: 2048,
    });
    caPem = readFileSync(join(dir, 'ca', 'ca.pem'), 'utf8');
  });
  afterAll(async () => {
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs scepclient in a directory of its own (it keeps csr.pem/self.pem in its working directory). */
  // Asynchronous: the server under test runs in this same process and must keep answering.
  function scepclient(work: string, args: string[]): Promise<{ status: number | null; out: string }> {
    return new Promise((resolve) => {
      execFile(
        'scepclient',
        ['-server-url', running.url, ...args],
        { cwd: work, encoding: 'utf8', timeout: 60_000 },
        (error, stdout, stderr) => {
          const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolve({ status, out: `${stdout}${stderr}` });
        },
      );
    });
  }

  function freshDir(name: string): string {
    const d = join(dir, name);
    rmSync(d, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', d]);
    return d;
  }

  it('PKCSReq with a fresh key', async () => {
    const work = freshDir('fresh');
    const r = await scepclient(work, [
      '-private-key',
      'client.key',
      '-challenge',
      'interop-secret',
      '-cn',
      'fresh-device',
      '-ca-fingerprint',
      parseCertificate(caPem).fingerprintSha256,
    ]);
    expect(r.status, r.out).toBe(0);
    const cert = parseCertificate(readFileSync(join(work, 'client.pem'), 'utf8'));
    expect(cert.subject.get('CN')).toBe('fresh-device');
    expect(cert.issuer.toString()).toBe(parseCertificate(caPem).subject.toString());
    expect(existsSync(join(dir, 'ca', 'certs', `${cert.serialNumber}.pem`))).toBe(true);
  });

  it('PKCSReq with a given key, then RenewalReq signed with the issued certificate', async () => {
    const work = freshDir('given');
    const gen = spawnSync('openssl', ['genrsa', '-traditional', '-out', join(work, 'given.key'), '3072'], {
      encoding: 'utf8',
    });
    expect(gen.status).toBe(0);
    const r = await scepclient(work, [
      '-private-key',
      'given.key',
      '-challenge',
      'interop-secret',
      '-cn',
      'given-device',
    ]);
    expect(r.status, r.out).toBe(0);
    const first = parseCertificate(readFileSync(join(work, 'client.pem'), 'utf8'));
    const keyMod = spawnSync('openssl', ['rsa', '-in', join(work, 'given.key'), '-noout', '-modulus'], {
      encoding: 'utf8',
    }).stdout;
    const certMod = spawnSync('openssl', ['x509', '-in', join(work, 'client.pem'), '-noout', '-modulus'], {
      encoding: 'utf8',
    }).stdout;
    expect(certMod).toBe(keyMod);
    expect(first.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);

    // Renewal: no challenge, signed by the certificate just issued.
    const renew = await scepclient(work, [
      '-private-key',
      'given.key',
      '-certificate',
      'client.pem',
      '-cn',
      'given-device',
    ]);
    expect(renew.status, renew.out).toBe(0);
    expect(renew.out).toMatch(/RenewalReq|SUCCESS/);
    const second = parseCertificate(readFileSync(join(work, 'client.pem'), 'utf8'));
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(second.subject.get('CN')).toBe('given-device');
  });

  it('a wrong challenge gets FAILURE/badRequest and no certificate', async () => {
    const work = freshDir('wrong');
    const before = spawnSync('ls', [join(dir, 'ca', 'certs')], { encoding: 'utf8' }).stdout;
    const r = await scepclient(work, [
      '-private-key',
      'client.key',
      '-challenge',
      'not-it',
      '-cn',
      'intruder',
    ]);
    expect(r.out).toMatch(/failInfo: badRequest/);
    expect(existsSync(join(work, 'client.pem'))).toBe(false);
    const after = spawnSync('ls', [join(dir, 'ca', 'certs')], { encoding: 'utf8' }).stdout;
    expect(after).toBe(before);
  });
});
