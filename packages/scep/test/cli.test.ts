import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import {
  createLocalKeyProvider,
  createSelfSignedCa,
  createStaticKeyProvider,
  exportPrivateKey,
  generateKeyPair,
} from '@mdmkit/crypto';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, openFileDepot, parseListen, parseServeArgs, ScepClient, ScepError, serve } from '../src/index';

const here = dirname(fileURLToPath(import.meta.url));

async function runMain(argv: string[]) {
  let out = '';
  let err = '';
  const status = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { status, out, err };
}

describe('mdmkit-scep command line', () => {
  it('follows the command-line convention: help at every level, --version, usage errors exit 2', async () => {
    for (const args of [
      ['--help'],
      ['-h'],
      ['help'],
      ['help', 'serve'],
      ['serve', '--help'],
      ['serve', '-h'],
    ]) {
      const r = await runMain(args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.out, args.join(' ')).toContain('usage: mdmkit-scep');
      expect(r.err).toBe('');
    }
    expect((await runMain(['serve', '--help'])).out).toContain('--kek-file');
    const version = await runMain(['--version']);
    expect(version.status).toBe(0);
    expect(version.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    for (const args of [[], ['bogus'], ['help', 'bogus'], ['serve'], ['serve', '--nope', 'x']]) {
      const r = await runMain(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(/^mdmkit-scep: /);
      expect(r.out, args.join(' ')).toBe('');
    }
  });

  it('reports an option whose value is missing before the next option, and an unreadable file as a runtime error', async () => {
    const swallowed = await runMain(['serve', '--ca-dir', '--challenge', 'x', '--kek-file', '/tmp/k']);
    expect(swallowed.status).toBe(2);
    expect(swallowed.err).toMatch(/^mdmkit-scep: --ca-dir needs a value\n/);
    const dir = mkdtempSync(join(tmpdir(), 'mdmkit-scep-cli-'));
    try {
      const missing = join(dir, 'challenge.txt');
      const r = await runMain(['serve', '--ca-dir', join(dir, 'ca'), '--challenge-file', missing]);
      expect(r.status).toBe(1);
      expect(r.err).toBe(`mdmkit-scep: ${missing}: no such file or directory\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mdmkit-scep arguments', () => {
  it('parses serve options with defaults', () => {
    const c = parseServeArgs(['--ca-dir', '/tmp/x', '--challenge', 's3cret', '--kek-file', '/etc/kek'], {});
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
      { MDMKIT_SCEP_CHALLENGE: 'from-env', MDMKIT_SCEP_KEK: Buffer.alloc(32, 7).toString('base64') },
    );
    expect(d).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      challenge: 'from-env',
      validityDays: 30,
      keySizes: [2048, 4096],
      caKeyBits: 4096,
    });
    expect(d.kek).toHaveLength(32);
  });

  it('rejects bad arguments with INVALID_OPTIONS', () => {
    const bad = (
      args: string[],
      env: NodeJS.ProcessEnv = { MDMKIT_SCEP_KEK: Buffer.alloc(32).toString('base64') },
    ) => {
      try {
        parseServeArgs(args, env);
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
    // The CA key is sealed: a key-encryption key is required, and never inside the CA directory.
    expect(bad(['--ca-dir', 'd', '--challenge', 'x'], {})).toBe('INVALID_OPTIONS');
    expect(bad(['--ca-dir', 'd', '--challenge', 'x', '--kek-file', 'd/kek'], {})).toBe('INVALID_OPTIONS');
    expect(bad(['--ca-dir', 'd', '--challenge', 'x'], { MDMKIT_SCEP_KEK: 'c2hvcnQ=' })).toBe(
      'INVALID_OPTIONS',
    );
    expect(bad(['--ca-dir', 'd', '--challenge', 'x', '--kek-file', 'kek'], {})).toBeUndefined();
    // A name that merely starts with two dots, and a path that reaches the CA directory through a
    // symbolic link, are still inside it.
    expect(bad(['--ca-dir', 'd', '--challenge', 'x', '--kek-file', 'd/..kek'], {})).toBe('INVALID_OPTIONS');
    const root = mkdtempSync(join(tmpdir(), 'scep-kek-'));
    try {
      mkdirSync(join(root, 'ca'));
      symlinkSync(join(root, 'ca'), join(root, 'elsewhere'));
      const viaLink = ['--ca-dir', join(root, 'ca'), '--challenge', 'x', '--kek-file'];
      expect(bad([...viaLink, join(root, 'elsewhere', 'kek')], {})).toBe('INVALID_OPTIONS');
      writeFileSync(join(root, 'ca', 'real.kek'), Buffer.alloc(32));
      symlinkSync(join(root, 'ca', 'real.kek'), join(root, 'link.kek'));
      expect(bad([...viaLink, join(root, 'link.kek')], {})).toBe('INVALID_OPTIONS');
      expect(bad([...viaLink, join(root, 'kek')], {})).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    expect(parseListen('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
    expect(parseListen('9090')).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(() => parseListen('host:99999')).toThrow(ScepError);
  });
});

describe('file depot', () => {
  let dir: string;
  const kek = createStaticKeyProvider(new Uint8Array(32).fill(1));
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mdmkit-scep-depot-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('seals the CA key through the key provider, keeps it across restarts, and refuses another KEK', async () => {
    const keyProvider = await createLocalKeyProvider({ path: join(dir, 'kek', 'scep.kek') });
    const d1 = await openFileDepot({ dir: join(dir, 'ca'), keyProvider });
    expect(d1.created).toBe(true);
    expect(readdirSync(join(dir, 'ca')).sort()).toEqual(['ca.key.sealed', 'ca.pem', 'certs', 'nonces']);
    expect(statSync(join(dir, 'ca', 'ca.key.sealed')).mode & 0o777).toBe(0o600);
    const sealedBytes = readFileSync(join(dir, 'ca', 'ca.key.sealed'));
    expect(sealedBytes.toString('latin1')).not.toContain('PRIVATE KEY');
    // The PKCS#8 encoding of the key appears nowhere in the file.
    const pkcs8 = exportPrivateKey(d1.privateKey, 'pkcs8-der') as Uint8Array;
    expect(sealedBytes.includes(Buffer.from(pkcs8.subarray(pkcs8.length - 64)))).toBe(false);
    const d2 = await openFileDepot({ dir: join(dir, 'ca'), keyProvider });
    expect(d2.created).toBe(false);
    expect(d2.certificate.fingerprintSha256).toBe(d1.certificate.fingerprintSha256);
    expect(d2.privateKey.equals(d1.privateKey)).toBe(true);
    const other = createStaticKeyProvider(new Uint8Array(32).fill(9));
    await expect(openFileDepot({ dir: join(dir, 'ca'), keyProvider: other })).rejects.toMatchObject({
      code: 'DEPOT_ERROR',
    });
  });

  it('seals a plain ca.key from an earlier version on open and deletes the plain file', async () => {
    const legacy = join(dir, 'legacy');
    mkdirSync(legacy, { recursive: true });
    const key = await generateKeyPair({ type: 'rsa', bits: 2048 });
    const { certificate, privateKey } = await createSelfSignedCa({ subject: 'CN=old CA', key });
    writeFileSync(join(legacy, 'ca.pem'), certificate.pem);
    writeFileSync(
      join(legacy, 'ca.key'),
      privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw-123' }),
      { mode: 0o600 },
    );
    const keyProvider = createStaticKeyProvider(new Uint8Array(32).fill(3));
    await expect(openFileDepot({ dir: legacy, keyProvider, passphrase: 'wrong' })).rejects.toMatchObject({
      code: 'DEPOT_ERROR',
    });
    expect(existsSync(join(legacy, 'ca.key'))).toBe(true);
    const d = await openFileDepot({ dir: legacy, keyProvider, passphrase: 'pw-123' });
    expect(d.migrated).toBe(true);
    expect(d.privateKey.equals(privateKey)).toBe(true);
    expect(existsSync(join(legacy, 'ca.key'))).toBe(false);
    const again = await openFileDepot({ dir: legacy, keyProvider });
    expect(again.migrated).toBe(false);
    expect(again.privateKey.equals(privateKey)).toBe(true);
  });

  it('stores challenges, nonces and certificates', async () => {
    const d = await openFileDepot({ keyProvider: kek, dir: join(dir, 'store') });
    await d.putChallenge('aa', new Date(Date.now() + 60_000));
    await d.putChallenge('bb', new Date(Date.now() - 1));
    const reopened = await openFileDepot({ keyProvider: kek, dir: join(dir, 'store') });
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
    const again = await openFileDepot({ keyProvider: kek, dir: join(dir, 'store') });
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
    const a = await openFileDepot({ keyProvider: kek, dir: join(dir, 'shared') });
    const b = await openFileDepot({ keyProvider: kek, dir: join(dir, 'shared') });
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
    const a = await openFileDepot({ keyProvider: kek, dir: join(dir, 'flood'), maxNonces: 20 });
    const b = await openFileDepot({ keyProvider: kek, dir: join(dir, 'flood'), maxNonces: 20 });
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
        '--kek-file',
        join(dir, 'kek'),
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
      expect(statSync(join(dir, 'ca', 'ca.key.sealed')).mode & 0o777).toBe(0o600);
      expect(existsSync(join(dir, 'ca', 'ca.key'))).toBe(false);
      // 'close', not 'exit': the last stdout chunk may arrive after the process has exited.
      const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve() has the slow-client timeouts of @mdmkit/http and sends no 100 Continue for an oversize body', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mdmkit-scep-serve-'));
    const running = await serve({
      host: '127.0.0.1',
      port: 0,
      caDir: dir,
      kek: new Uint8Array(32).fill(5),
      challenge: 'x',
      validityDays: 1,
      keySizes: [2048],
      caKeyBits: 2048,
    });
    try {
      expect(running.server.headersTimeout).toBeLessThanOrEqual(20_000);
      expect(running.server.requestTimeout).toBeLessThanOrEqual(60_000);
      expect(running.server.timeout).toBeGreaterThan(0);
      const port = (running.server.address() as { port: number }).port;
      const answer = await new Promise<string>((resolve) => {
        const socket = netConnect(port, '127.0.0.1');
        let text = '';
        socket.on('data', (d: Buffer) => {
          text += d.toString('latin1');
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve(text));
        socket.write(
          'POST /scep?operation=PKIOperation HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\n\r\n',
        );
      });
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      const small = await fetch(`${running.url}?operation=GetCACaps`);
      expect(small.status).toBe(200);
    } finally {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve() in process answers GetCACaps and 404 elsewhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mdmkit-scep-serve-'));
    const running = await serve({
      host: '127.0.0.1',
      port: 0,
      caDir: dir,
      kek: new Uint8Array(32).fill(5),
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
      // serve() in code refuses a key-encryption key file inside the CA directory, as the command does.
      const inside = serve({
        host: '127.0.0.1',
        port: 0,
        caDir: join(dir, 'other'),
        kekFile: join(dir, 'other', 'kek'),
        challenge: 'x',
        validityDays: 1,
        keySizes: [2048],
        caKeyBits: 2048,
      });
      await expect(inside).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
      expect(existsSync(join(dir, 'other', 'kek'))).toBe(false);
    } finally {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
