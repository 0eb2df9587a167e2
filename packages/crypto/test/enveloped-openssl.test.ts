import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptCms } from '../src/enveloped-decrypt';
import { encryptCms } from '../src/enveloped-encrypt';
import type { ContentCipher, KeyTransport } from '../src/enveloped-data';
import {
  LEGACY,
  makeIdentity,
  openssl,
  opensslAvailable,
  TempDir,
  type TestIdentity,
} from './support/openssl';

const ok = opensslAvailable('CMS EnvelopedData interop with openssl cms');

// openssl cms cipher flags for each content cipher.
const FLAGS: Record<ContentCipher, string[]> = {
  'aes-128-cbc': ['-aes-128-cbc'],
  'aes-192-cbc': ['-aes-192-cbc'],
  'aes-256-cbc': ['-aes-256-cbc'],
  'aes-128-gcm': ['-aes-128-gcm'],
  'aes-192-gcm': ['-aes-192-gcm'],
  'aes-256-gcm': ['-aes-256-gcm'],
  'des-ede3-cbc': ['-des3'],
  'des-cbc': ['-des', ...LEGACY],
};

const TRANSPORTS: { name: string; kt: KeyTransport; keyopt: string[]; oaepHash?: 'sha1' | 'sha256' }[] = [
  { name: 'rsaEncryption', kt: 'rsa-pkcs1', keyopt: [] },
  { name: 'OAEP/SHA-1', kt: 'rsa-oaep', keyopt: ['-keyopt', 'rsa_padding_mode:oaep'], oaepHash: 'sha1' },
  {
    name: 'OAEP/SHA-256',
    kt: 'rsa-oaep',
    keyopt: [
      '-keyopt',
      'rsa_padding_mode:oaep',
      '-keyopt',
      'rsa_oaep_md:sha256',
      '-keyopt',
      'rsa_mgf1_md:sha256',
    ],
    oaepHash: 'sha256',
  },
];

describe.skipIf(!ok)('EnvelopedData interop with openssl cms', () => {
  let dir: TempDir;
  let alice: TestIdentity;
  let bob: TestIdentity;
  beforeAll(() => {
    dir = new TempDir();
    alice = makeIdentity(dir, 'alice');
    bob = makeIdentity(dir, 'bob');
  });
  afterAll(() => dir.remove());

  for (const t of TRANSPORTS) {
    for (const cipher of Object.keys(FLAGS) as ContentCipher[]) {
      it(`openssl -> us: ${t.name} + ${cipher}`, async () => {
        const plain = randomBytes(1000 + (cipher.length % 7));
        const inPath = dir.unique('bin');
        dir.file(inPath.split('/').pop() as string, plain);
        const der = openssl([
          'cms',
          '-encrypt',
          '-binary',
          '-in',
          inPath,
          '-outform',
          'DER',
          ...FLAGS[cipher],
          '-recip',
          alice.certPath,
          ...t.keyopt,
        ]);
        const r = await decryptCms(der, {
          recipients: [
            { certificate: bob.certificate, privateKey: bob.privateKey },
            { certificate: alice.certificate, privateKey: alice.privateKey },
          ],
        });
        expect(Buffer.from(r.content)).toEqual(plain);
        expect(r.cipher).toBe(cipher);
        expect(r.recipient).toBe(alice.certificate);
      });

      if (cipher === 'des-cbc') continue;
      it(`us -> openssl: ${t.name} + ${cipher}`, async () => {
        const plain = randomBytes(777);
        const der = await encryptCms({
          content: plain,
          recipients: [bob.certificate, alice.certificate],
          cipher,
          keyTransport: t.kt,
          ...(t.oaepHash ? { oaepHash: t.oaepHash } : {}),
        });
        const ctPath = dir.unique('der');
        dir.file(ctPath.split('/').pop() as string, der);
        const out = openssl([
          'cms',
          '-decrypt',
          '-binary',
          '-inform',
          'DER',
          '-in',
          ctPath,
          '-recip',
          alice.certPath,
          '-inkey',
          alice.keyPath,
        ]);
        expect(out).toEqual(plain);
      });
    }
  }

  it('single DES only when explicitly allowed; openssl (legacy provider) opens it', async () => {
    const plain = randomBytes(301);
    await expect(
      encryptCms({ content: plain, recipients: [alice.certificate], cipher: 'des-cbc' }),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED_ALGORITHM',
    });
    const der = await encryptCms({
      content: plain,
      recipients: [alice.certificate],
      cipher: 'des-cbc',
      insecureAllowSingleDes: true,
    });
    const ctPath = dir.unique('der');
    dir.file(ctPath.split('/').pop() as string, der);
    const out = openssl([
      'cms',
      '-decrypt',
      '-binary',
      '-inform',
      'DER',
      '-in',
      ctPath,
      '-recip',
      alice.certPath,
      '-inkey',
      alice.keyPath,
      ...LEGACY,
    ]);
    expect(out).toEqual(plain);
    const r = await decryptCms(der, {
      recipients: [{ certificate: alice.certificate, privateKey: alice.privateKey }],
    });
    expect(Buffer.from(r.content)).toEqual(plain);
    expect(r.cipher).toBe('des-cbc');
  });

  for (const [md, mgf] of [
    ['sha256', 'sha1'],
    ['sha1', 'sha256'],
    ['sha512', 'sha256'],
  ] as const) {
    it(`openssl -> us: OAEP with ${md} and MGF1-${mgf} (decoded without node:crypto's OAEP)`, async () => {
      const plain = randomBytes(100);
      const inPath = dir.unique('bin');
      dir.file(inPath.split('/').pop() as string, plain);
      const der = openssl([
        'cms',
        '-encrypt',
        '-binary',
        '-in',
        inPath,
        '-outform',
        'DER',
        '-aes-192-cbc',
        '-recip',
        alice.certPath,
        '-keyopt',
        'rsa_padding_mode:oaep',
        '-keyopt',
        `rsa_oaep_md:${md}`,
        '-keyopt',
        `rsa_mgf1_md:${mgf}`,
      ]);
      const r = await decryptCms(der, {
        recipients: [{ certificate: alice.certificate, privateKey: alice.privateKey }],
      });
      expect(Buffer.from(r.content)).toEqual(plain);
      // A flipped bit in the wrapped key fails like any other decryption failure.
      const keyAt = Buffer.from(der).indexOf(Buffer.of(0x04, 0x82, 0x01, 0x00)) + 4;
      const t = Uint8Array.from(der);
      t[keyAt + 7] = (t[keyAt + 7] as number) ^ 4;
      await expect(
        decryptCms(t, { recipients: [{ certificate: alice.certificate, privateKey: alice.privateKey }] }),
      ).rejects.toMatchObject({ code: 'DECRYPT_FAILED', message: 'CMS decryption failed' });
    });
  }

  it('matches by subject key identifier both ways (-keyid)', async () => {
    const plain = randomBytes(64);
    const inPath = dir.unique('bin');
    dir.file(inPath.split('/').pop() as string, plain);
    const der = openssl([
      'cms',
      '-encrypt',
      '-binary',
      '-keyid',
      '-in',
      inPath,
      '-outform',
      'DER',
      '-aes-256-cbc',
      alice.certPath,
    ]);
    const r = await decryptCms(der, {
      recipients: [{ certificate: alice.certificate, privateKey: alice.privateKey }],
    });
    expect(Buffer.from(r.content)).toEqual(plain);

    const ours = await encryptCms({
      content: plain,
      recipients: [alice.certificate],
      recipientIdentifier: 'subjectKeyIdentifier',
    });
    const ctPath = dir.unique('der');
    dir.file(ctPath.split('/').pop() as string, ours);
    const out = openssl([
      'cms',
      '-decrypt',
      '-binary',
      '-inform',
      'DER',
      '-in',
      ctPath,
      '-recip',
      alice.certPath,
      '-inkey',
      alice.keyPath,
    ]);
    expect(out).toEqual(plain);
  });

  it('reads streamed BER (indefinite lengths, chunked content) and PEM', async () => {
    const plain = randomBytes(5000);
    const inPath = dir.unique('bin');
    dir.file(inPath.split('/').pop() as string, plain);
    const ber = openssl([
      'cms',
      '-encrypt',
      '-binary',
      '-stream',
      '-in',
      inPath,
      '-outform',
      'DER',
      '-aes-128-cbc',
      alice.certPath,
    ]);
    expect(ber[1]).toBe(0x80); // indefinite length at the top
    const r = await decryptCms(ber, {
      recipients: [{ certificate: alice.certificate, privateKey: alice.privateKey }],
    });
    expect(Buffer.from(r.content)).toEqual(plain);
    const pem = openssl([
      'cms',
      '-encrypt',
      '-binary',
      '-in',
      inPath,
      '-outform',
      'PEM',
      '-aes-128-cbc',
      alice.certPath,
    ]).toString();
    const r2 = await decryptCms(pem, {
      recipients: [{ certificate: alice.certificate, privateKey: alice.privateKey }],
    });
    expect(Buffer.from(r2.content)).toEqual(plain);
    expect(readFileSync(inPath).length).toBe(5000);
  });
});
