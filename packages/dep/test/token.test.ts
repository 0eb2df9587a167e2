import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTokenKeyPair,
  DepError,
  decryptServerToken,
  type TokenKeyPair,
  tokenExpiry,
} from '../src/index';

const dir = mkdtempSync(join(tmpdir(), 'mdmkit-dep-token-'));
let key: TokenKeyPair;
let other: TokenKeyPair;

const goodJson = {
  consumer_key: 'CK_3a2b',
  consumer_secret: 'CS_9f8e',
  access_token: 'AT_O1234',
  access_secret: 'AS_5678',
  access_token_expiry: '2031-04-02T10:11:12Z',
};

/** A server token as ABM makes it: text/plain MIME entity around BEGIN/END MESSAGE, encrypted by openssl smime. */
function opensslToken(recipient: TokenKeyPair, message: string, name = 'token'): string {
  const cert = join(dir, `${name}.pem`);
  const msg = join(dir, `${name}.txt`);
  const out = join(dir, `${name}.p7m`);
  writeFileSync(cert, recipient.certificatePem);
  writeFileSync(
    msg,
    `Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n${message}`,
  );
  execFileSync('openssl', ['smime', '-encrypt', '-aes256', '-binary', '-in', msg, '-out', out, cert]);
  return readFileSync(out, 'utf8');
}

const wrap = (json: string) => `-----BEGIN MESSAGE-----\n${json}\n-----END MESSAGE-----`;

beforeAll(async () => {
  key = await createTokenKeyPair({ commonName: 'Example MDM', validityDays: 30 });
  other = await createTokenKeyPair();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createTokenKeyPair', () => {
  it('makes a self-signed certificate with the chosen CN and validity, whose key matches', async () => {
    expect(key.certificate.subject.toString()).toContain('CN=Example MDM');
    const days = (key.certificate.notAfter.getTime() - key.certificate.notBefore.getTime()) / 86_400_000;
    expect(Math.round(days)).toBe(30);
    expect(key.certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(key.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    // openssl reads the certificate back (the file an admin uploads)
    writeFileSync(join(dir, 'up.pem'), key.certificatePem);
    expect(
      execFileSync('openssl', ['x509', '-in', join(dir, 'up.pem'), '-noout', '-subject']).toString(),
    ).toContain('Example MDM');
  });

  it('refuses an empty name and a silly validity', async () => {
    await expect(createTokenKeyPair({ commonName: '' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(createTokenKeyPair({ validityDays: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('decryptServerToken (tokens made by openssl smime -encrypt)', () => {
  it('opens the token and reads the OAuth credentials and expiry', async () => {
    const p7m = opensslToken(key, wrap(JSON.stringify(goodJson)));
    expect(p7m).toContain('application/x-pkcs7-mime');
    const token = await decryptServerToken(p7m, key);
    expect(token).toEqual({
      consumerKey: 'CK_3a2b',
      consumerSecret: 'CS_9f8e',
      accessToken: 'AT_O1234',
      accessSecret: 'AS_5678',
      accessTokenExpiry: new Date('2031-04-02T10:11:12Z'),
    });
    // bytes work as well as text
    expect((await decryptServerToken(Buffer.from(p7m), key)).consumerKey).toBe('CK_3a2b');
  });

  it('refuses a token encrypted to another key with INVALID_TOKEN', async () => {
    const p7m = opensslToken(other, wrap(JSON.stringify(goodJson)), 'other');
    const e = await decryptServerToken(p7m, key).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DepError);
    expect((e as DepError).code).toBe('INVALID_TOKEN');
  });

  it('refuses a corrupted file with INVALID_TOKEN', async () => {
    const p7m = opensslToken(key, wrap(JSON.stringify(goodJson)), 'corrupt');
    const [head, body] = p7m.split(/\r?\n\r?\n/, 2) as [string, string];
    const mid = body.length >> 1;
    const flipped = `${head}\n\n${body.slice(0, mid)}${body[mid] === 'A' ? 'B' : 'A'}${body.slice(mid + 1)}`;
    await expect(decryptServerToken(flipped, key)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(decryptServerToken(p7m.slice(0, p7m.length >> 1), key)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    });
    await expect(decryptServerToken('hello', key)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('names the missing field when the JSON lacks one', async () => {
    const { access_secret: _, ...missing } = goodJson;
    const p7m = opensslToken(key, wrap(JSON.stringify(missing)), 'missing');
    await expect(decryptServerToken(p7m, key)).rejects.toThrow(/access_secret/);
  });

  it('refuses content without the BEGIN/END MESSAGE block, bad JSON and a bad date', async () => {
    await expect(
      decryptServerToken(opensslToken(key, JSON.stringify(goodJson), 'bare'), key),
    ).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(decryptServerToken(opensslToken(key, wrap('{nope'), 'badjson'), key)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    });
    const badDate = opensslToken(
      key,
      wrap(JSON.stringify({ ...goodJson, access_token_expiry: 'soon' })),
      'date',
    );
    await expect(decryptServerToken(badDate, key)).rejects.toThrow(/access_token_expiry/);
  });
});

describe('tokenExpiry', () => {
  const token = { accessTokenExpiry: new Date('2030-06-30T00:00:00Z') };
  it('reports days left and renewal due within the warning window', () => {
    expect(tokenExpiry(token, { now: new Date('2030-01-01T00:00:00Z') })).toMatchObject({
      expired: false,
      daysLeft: 180,
      renewalDue: false,
    });
    expect(tokenExpiry(token, { now: new Date('2030-06-10T00:00:00Z') })).toMatchObject({
      expired: false,
      daysLeft: 20,
      renewalDue: true,
    });
    expect(tokenExpiry(token, { now: new Date('2030-07-01T00:00:00Z') })).toMatchObject({
      expired: true,
      daysLeft: 0,
      renewalDue: true,
    });
  });
});
