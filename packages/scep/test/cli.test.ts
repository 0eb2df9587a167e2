import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileDepot, parseListen, parseServeArgs, ScepClient, ScepError, serve } from '../src/index';

const here = dirname(fileURLToPath(import.meta.url));

describe('mdmkit-scep arguments', () => {
  it('parses serve options with defaults', () => {
    const c = parseServeArgs(['--ca-dir', '/tmp/x', '--challenge', 's3cret'], {});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      caDir: '/tmp/x',
      challenge: 's3cret',
      validityDays: 365,
    });
    expect(c.keySizes).toEqual([2048, 3072, 4096]);
    const d = parseServeArgs(
      [
        '--listen=0.0.0.0:9000',
        '--ca-dir=/d',
        '--validity-days',
        '30',
        '--key-sizes',
        '2048,4096',
        '--ca-key-size',
        '4096',
      ],
      { MDMKIT_SCEP_CHALLENGE: 'from-env' },
    );
    expect(d).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      challenge: 'from-env',
      validityDays: 30,
      keySizes: [2048, 4096],
      caKeyBits: 4096,
    });
  });

  it('rejects bad arguments with INVALID_OPTIONS', () => {
    const bad = (args: string[]) => {
      try {
        parseServeArgs(args, {});
        return undefined;
      } catch (e) {
        return e instanceof ScepError ? e.code : 'other';
      }
    };
    expect(bad(['--challenge', 'x'])).toBe('INVALID_OPTIONS'); // no --ca-dir
    expect(bad(['--ca-dir', 'd'])).toBe('INVALID_OPTIONS'); // no challenge
    expect(bad(['--ca-dir', 'd', '--challenge', 'x', '--validity-days', '0'])).toBe('INVALID_OPTIONS');
    expect(bad(['--ca-dir', 'd', '--challenge', 'x', '--key-sizes', 'big'])).toBe('INVALID_OPTIONS');
    expect(bad(['--ca-dir', 'd', '--challenge', 'x', '--bogus', '1'])).toBe('INVALID_OPTIONS');
    expect(bad(['--ca-dir', 'd', '--challenge'])).toBe('INVALID_OPTIONS');
    expect(bad(['--ca-dir', 'd', '--challenge', 'x', '--workers', '0'])).toBe('INVALID_OPTIONS');
    expect(parseListen('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
    expect(parseListen('9090')).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(() => parseListen('host:99999')).toThrow(ScepError);
  });
});

describe('file depot', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mdmkit-scep-depot-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the CA once, key 0600 and passphrase-protected, and keeps it across restarts', async () => {
    const d1 = await openFileDepot({ dir: join(dir, 'ca'), passphrase: 'pw-123' });
    expect(d1.created).toBe(true);
    expect(statSync(join(dir, 'ca', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'ca', 'ca.key'), 'utf8')).toContain('ENCRYPTED PRIVATE KEY');
    const d2 = await openFileDepot({ dir: join(dir, 'ca'), passphrase: 'pw-123' });
    expect(d2.created).toBe(false);
    expect(d2.certificate.fingerprintSha256).toBe(d1.certificate.fingerprintSha256);
    await expect(openFileDepot({ dir: join(dir, 'ca'), passphrase: 'wrong' })).rejects.toMatchObject({
      code: 'DEPOT_ERROR',
    });
  });

  it('stores challenges, nonces and certificates', async () => {
    const d = await openFileDepot({ dir: join(dir, 'store') });
    await d.putChallenge('aa', new Date(Date.now() + 60_000));
    await d.putChallenge('bb', new Date(Date.now() - 1));
    const reopened = await openFileDepot({ dir: join(dir, 'store') });
    expect(await reopened.consumeChallenge('aa')).toBe(true);
    expect(await reopened.consumeChallenge('aa')).toBe(false);
    expect(await reopened.consumeChallenge('bb')).toBe(false);
    expect(await d.recordSenderNonce('01', new Date(Date.now() + 60_000))).toBe(true);
    expect(await d.recordSenderNonce('01', new Date(Date.now() + 60_000))).toBe(false);
    await d.putIssuedCertificate({
      serial: 'ab12',
      subject: 'CN=x',
      notBefore: new Date(0),
      notAfter: new Date(1000),
      requester: 't1',
      certificateDer: d.certificate.der,
      issuedAt: new Date(5),
    });
    const again = await openFileDepot({ dir: join(dir, 'store') });
    // A recorded senderNonce stays a replay after a restart, and its file is not world-readable.
    expect(await again.recordSenderNonce('01', new Date(Date.now() + 60_000))).toBe(false);
    expect(statSync(join(dir, 'store', 'nonces', '01')).mode & 0o777).toBe(0o600);
    const rec = await again.getIssuedCertificate('ab12');
    expect(rec?.requester).toBe('t1');
    expect(Buffer.from(rec!.certificateDer)).toEqual(Buffer.from(d.certificate.der));
    expect((await again.findIssuedCertificatesBySubject('CN=x')).map((r) => r.serial)).toEqual(['ab12']);
    expect(await again.getIssuedCertificate('../../etc/passwd')).toBeUndefined();
  });

  it("processes sharing a depot see each other's nonces and certificates", async () => {
    const a = await openFileDepot({ dir: join(dir, 'shared') });
    const b = await openFileDepot({ dir: join(dir, 'shared') });
    expect(await a.recordSenderNonce('beef', new Date(Date.now() + 60_000))).toBe(true);
    expect(await b.recordSenderNonce('beef', new Date(Date.now() + 60_000))).toBe(false);
    // An expired nonce may be used again.
    expect(await a.recordSenderNonce('cafe', new Date(Date.now() - 1))).toBe(true);
    expect(await b.recordSenderNonce('cafe', new Date(Date.now() + 60_000))).toBe(true);
    expect(await b.recordSenderNonce('../x', new Date(Date.now() + 60_000))).toBe(false);
    await a.putIssuedCertificate({
      serial: 'cd34',
      subject: 'CN=shared',
      notBefore: new Date(0),
      notAfter: new Date(1000),
      certificateDer: a.certificate.der,
      issuedAt: new Date(5),
    });
    expect((await b.findIssuedCertificatesBySubject('CN=shared')).map((r) => r.serial)).toEqual(['cd34']);
  });

  it('keeps at most maxNonces nonce files under a flood, refusing new ones and never forgetting a live one', async () => {
    const a = await openFileDepot({ dir: join(dir, 'flood'), maxNonces: 20 });
    const b = await openFileDepot({ dir: join(dir, 'flood'), maxNonces: 20 });
    const until = new Date(Date.now() + 60_000);
    let refused = 0;
    for (let i = 0; i < 60; i++) {
      const nonce = i.toString(16).padStart(4, '0');
      await (i % 2 ? a : b).recordSenderNonce(nonce, until).then(
        (fresh) => expect(fresh).toBe(true),
        (e: unknown) => {
          expect(e).toMatchObject({ name: 'StorageError', code: 'FULL' });
          refused++;
        },
      );
    }
    expect(refused).toBe(40);
    expect(readdirSync(join(dir, 'flood', 'nonces'))).toHaveLength(20);
    for (let i = 0; i < 20; i++) {
      expect(await a.recordSenderNonce(i.toString(16).padStart(4, '0'), until)).toBe(false);
    }
  });
});

describe('mdmkit-scep serve', () => {
  it('serves /scep on 127.0.0.1, stores certificates by serial and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mdmkit-scep-bin-'));
    const tsx = resolve(here, '../../../node_modules/.bin/tsx');
    const child = spawn(
      tsx,
      [
        '--conditions=mdmkit-source',
        resolve(here, '../src/bin.ts'),
        'serve',
        '--listen',
        '127.0.0.1:0',
        '--ca-dir',
        join(dir, 'ca'),
        '--challenge',
        'bin-secret',
        '--validity-days',
        '7',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      const url = await new Promise<string>((res, rej) => {
        const t = setTimeout(() => rej(new Error(`no start line: ${out}`)), 60_000);
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /serving SCEP at (\S+)/.exec(out);
          if (m) {
            clearTimeout(t);
            res(m[1]!);
          }
        });
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/scep$/);
      const client = new ScepClient({ url });
      const r = await client.enroll({ subject: 'CN=bin-device', challenge: 'bin-secret' });
      const days = (r.certificate.notAfter.getTime() - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(6.9);
      expect(days).toBeLessThan(7.1);
      expect(readdirSync(join(dir, 'ca', 'certs'))).toContain(`${r.certificate.serialNumber}.pem`);
      expect(statSync(join(dir, 'ca', 'ca.key')).mode & 0o777).toBe(0o600);
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve() in process answers GetCACaps and 404 elsewhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mdmkit-scep-serve-'));
    const running = await serve({
      host: '127.0.0.1',
      port: 0,
      caDir: dir,
      challenge: 'x',
      validityDays: 1,
      keySizes: [2048],
      caKeyBits: 2048,
    });
    try {
      const caps = await fetch(`${running.url}?operation=GetCACaps`);
      expect(caps.headers.get('content-type')).toBe('text/plain');
      expect((await caps.text()).split('\n')).toEqual([
        'POSTPKIOperation',
        'SHA-256',
        'SHA-512',
        'AES',
        'DES3',
        'Renewal',
        'SCEPStandard',
      ]);
      expect((await fetch(running.url.replace('/scep', '/other'))).status).toBe(404);
    } finally {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
