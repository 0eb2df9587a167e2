import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../src/certificate';
import { decryptCms } from '../src/enveloped-decrypt';
import { encryptCms } from '../src/enveloped-encrypt';
import { CryptoError } from '../src/errors';
import { makeIdentity, openssl, opensslAvailable, TempDir, type TestIdentity } from './support/openssl';

const ok = opensslAvailable('EnvelopedData behaviour tests (certificates made by openssl)');

async function failure(p: Promise<unknown>): Promise<CryptoError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    return e as CryptoError;
  }
  throw new Error('expected a rejection');
}

/** Offset of the first occurrence of `needle` in `hay`. */
function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(hay).indexOf(Buffer.from(needle));
}

describe.skipIf(!ok)('decryptCms behaviour', () => {
  let dir: TempDir;
  let alice: TestIdentity;
  let bob: TestIdentity;
  let aliceAgain: TestIdentity; // same subject, new key and serial: a rotated certificate
  beforeAll(() => {
    dir = new TempDir();
    alice = makeIdentity(dir, 'alice');
    bob = makeIdentity(dir, 'bob');
    aliceAgain = makeIdentity(dir, 'alice-rotated', 2048, 'alice');
  });
  afterAll(() => dir.remove());

  const mine = () => [{ certificate: alice.certificate, privateKey: alice.privateKey }];

  it('round-trips every cipher through our own encryptor, picking the right candidate', async () => {
    for (const cipher of [
      'aes-128-cbc',
      'aes-192-cbc',
      'aes-256-cbc',
      'aes-128-gcm',
      'aes-256-gcm',
      'des-ede3-cbc',
    ] as const) {
      for (const keyTransport of ['rsa-pkcs1', 'rsa-oaep'] as const) {
        const content = randomBytes(100);
        const der = await encryptCms({ content, recipients: [alice.certificate], cipher, keyTransport });
        const r = await decryptCms(der, {
          recipients: [
            { certificate: aliceAgain.certificate, privateKey: aliceAgain.privateKey },
            { certificate: bob.certificate, privateKey: bob.privateKey },
            { certificate: alice.certificate, privateKey: alice.privateKey },
          ],
        });
        expect(Buffer.from(r.content)).toEqual(content);
        expect(r.cipher).toBe(cipher);
        expect(r.recipient).toBe(alice.certificate);
      }
    }
  });

  it('works with Certificate objects from parseCertificate, by issuer+serial and by SKI', async () => {
    const cert = parseCertificate(alice.certificate.pem);
    const other = parseCertificate(bob.certificate.pem);
    for (const recipientIdentifier of ['issuerAndSerialNumber', 'subjectKeyIdentifier'] as const) {
      const content = randomBytes(33);
      const der = await encryptCms({ content, recipients: [cert], recipientIdentifier });
      const r = await decryptCms(der, {
        recipients: [
          { certificate: other, privateKey: bob.privateKey },
          { certificate: cert, privateKey: alice.privateKey },
        ],
      });
      expect(r.recipient).toBe(cert);
      expect(r.recipient.subject.get('CN')).toBe('alice');
      expect(Buffer.from(r.content)).toEqual(content);
    }
  });

  it('names a certificate without an SKI extension by the SHA-1 of its key', async () => {
    const csr = dir.file('noski.csr');
    openssl(['req', '-new', '-key', alice.keyPath, '-subj', '/CN=no ski', '-out', csr]);
    const crtPath = dir.file('noski.crt');
    openssl(['x509', '-req', '-in', csr, '-signkey', alice.keyPath, '-days', '2', '-out', crtPath]);
    const cert = parseCertificate(readFileSync(crtPath, 'utf8'));
    expect(cert.subjectKeyIdentifier).toBeUndefined();
    const content = randomBytes(20);
    const der = await encryptCms({
      content,
      recipients: [cert],
      recipientIdentifier: 'subjectKeyIdentifier',
    });
    const r = await decryptCms(der, { recipients: [{ certificate: cert, privateKey: alice.privateKey }] });
    expect(Buffer.from(r.content)).toEqual(content);
    // OpenSSL's subjectKeyIdentifier=hash is the same method, so the certificate with the extension
    // (same key) is named by the same identifier.
    const again = await decryptCms(der, { recipients: mine() });
    expect(Buffer.from(again.content)).toEqual(content);
  });

  it('handles empty content and a certificate without publicKey given', async () => {
    const der = await encryptCms({
      content: new Uint8Array(0),
      recipients: [{ der: alice.certificate.der }],
    });
    const r = await decryptCms(der, { recipients: mine() });
    expect(r.content.length).toBe(0);
  });

  it('NO_MATCHING_RECIPIENT only when no candidate is named', async () => {
    const der = await encryptCms({ content: randomBytes(10), recipients: [alice.certificate] });
    const e = await failure(
      decryptCms(der, {
        recipients: [
          { certificate: bob.certificate, privateKey: bob.privateKey },
          { certificate: aliceAgain.certificate, privateKey: aliceAgain.privateKey },
        ],
      }),
    );
    expect(e.code).toBe('NO_MATCHING_RECIPIENT');
    expect((await failure(decryptCms(der, { recipients: [] }))).code).toBe('NO_MATCHING_RECIPIENT');
  });

  it('every decryption failure is DECRYPT_FAILED with one message', async () => {
    const content = randomBytes(200);
    const failures: CryptoError[] = [];
    // CBC has no integrity: a wrong key gives valid-looking padding about once in 256 tries, and then
    // garbage comes back (as with any CMS implementation). So CBC cases must fail OR yield garbage.
    const cbcOutcome = async (
      der: Uint8Array,
      recipients: Parameters<typeof decryptCms>[1]['recipients'],
    ) => {
      try {
        const r = await decryptCms(der, { recipients });
        expect(Buffer.from(r.content)).not.toEqual(content);
      } catch (e) {
        expect(e).toBeInstanceOf(CryptoError);
        failures.push(e as CryptoError);
      }
    };
    const cbc = await encryptCms({ content, recipients: [alice.certificate], cipher: 'aes-256-cbc' });
    const gcm = await encryptCms({ content, recipients: [alice.certificate], cipher: 'aes-256-gcm' });
    const keyAt = (der: Uint8Array) => indexOf(der, Uint8Array.of(0x04, 0x82, 0x01, 0x00)) + 4;
    expect(keyAt(cbc)).toBeGreaterThan(4);
    // Wrong key for the named certificate.
    await cbcOutcome(cbc, [{ certificate: alice.certificate, privateKey: bob.privateKey }]);
    failures.push(
      await failure(
        decryptCms(gcm, { recipients: [{ certificate: alice.certificate, privateKey: bob.privateKey }] }),
      ),
    );
    // Tampered encrypted key (bad PKCS#1 padding after RSA).
    for (const der of [cbc, gcm]) {
      const t = Uint8Array.from(der);
      t[keyAt(der) + 10] = (t[keyAt(der) + 10] as number) ^ 1;
      if (der === cbc) await cbcOutcome(t, mine());
      else failures.push(await failure(decryptCms(t, { recipients: mine() })));
    }
    // Tampered last ciphertext block (CBC padding).
    const badCt = Uint8Array.from(cbc);
    badCt[badCt.length - 1] = (badCt[badCt.length - 1] as number) ^ 0x55;
    await cbcOutcome(badCt, mine());
    // Tampered GCM tag and GCM ciphertext.
    const badTag = Uint8Array.from(gcm);
    badTag[badTag.length - 1] = (badTag[badTag.length - 1] as number) ^ 1;
    failures.push(await failure(decryptCms(badTag, { recipients: mine() })));
    const badGcm = Uint8Array.from(gcm);
    badGcm[badGcm.length - 40] = (badGcm[badGcm.length - 40] as number) ^ 1;
    failures.push(await failure(decryptCms(badGcm, { recipients: mine() })));
    expect(failures.length).toBeGreaterThanOrEqual(4);
    for (const f of failures) {
      expect(f.code).toBe('DECRYPT_FAILED');
      expect(f.message).toBe(failures[0]?.message);
      expect(f.cause).toBeUndefined();
    }
  });

  it('bad padding yields the same content-layer failure as a wrong key (no early error)', async () => {
    // With implicit rejection the bad-padding case reaches the content cipher; with AES-GCM that
    // always fails the tag check, so both paths end identically.
    const gcm = await encryptCms({
      content: randomBytes(50),
      recipients: [alice.certificate],
      cipher: 'aes-128-gcm',
    });
    const t = Uint8Array.from(gcm);
    const keyAt = indexOf(gcm, Uint8Array.of(0x04, 0x82, 0x01, 0x00)) + 4;
    t[keyAt] = (t[keyAt] as number) ^ 0x80;
    const a = await failure(decryptCms(t, { recipients: mine() }));
    const b = await failure(
      decryptCms(gcm, { recipients: [{ certificate: alice.certificate, privateKey: bob.privateKey }] }),
    );
    expect([a.code, a.message]).toEqual([b.code, b.message]);
  });

  it('allowedCiphers refuses other content ciphers before touching the key', async () => {
    const der = await encryptCms({
      content: randomBytes(8),
      recipients: [alice.certificate],
      cipher: 'des-ede3-cbc',
    });
    const e = await failure(
      decryptCms(der, { recipients: mine(), allowedCiphers: ['aes-256-cbc', 'aes-128-cbc'] }),
    );
    expect(e.code).toBe('UNSUPPORTED_ALGORITHM');
    const r = await decryptCms(der, { recipients: mine(), allowedCiphers: ['des-ede3-cbc'] });
    expect(r.cipher).toBe('des-ede3-cbc');
  });

  it('typed errors for malformed input and unsupported algorithms', async () => {
    expect((await failure(decryptCms(Uint8Array.of(1, 2, 3), { recipients: mine() }))).code).toBe(
      'INVALID_CMS',
    );
    expect((await failure(decryptCms('not pem', { recipients: mine() }))).code).toBe('INVALID_PEM');
    const signed = openssl(
      ['cms', '-sign', '-binary', '-outform', 'DER', '-signer', alice.certPath, '-inkey', alice.keyPath],
      'x',
    );
    expect((await failure(decryptCms(signed, { recipients: mine() }))).code).toBe('INVALID_CMS');
    await expect(
      encryptCms({ content: new Uint8Array(1), recipients: [alice.certificate], cipher: 'des-cbc' }),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED_ALGORITHM',
    });
  });
});

describe.skipIf(!ok)('decryptCms fuzz (mutated inputs)', () => {
  let dir: TempDir;
  let alice: TestIdentity;
  beforeAll(() => {
    dir = new TempDir();
    alice = makeIdentity(dir, 'fuzz');
  });
  afterAll(() => dir.remove());

  it('only CryptoError escapes', async () => {
    const runs = Number(process.env.MDMKIT_FUZZ_RUNS ?? 2000);
    const seeds = [
      await encryptCms({ content: randomBytes(40), recipients: [alice.certificate] }),
      await encryptCms({
        content: randomBytes(40),
        recipients: [alice.certificate],
        cipher: 'aes-128-gcm',
        keyTransport: 'rsa-oaep',
      }),
      await encryptCms({
        content: randomBytes(40),
        recipients: [alice.certificate],
        recipientIdentifier: 'subjectKeyIdentifier',
      }),
      await encryptCms({
        content: randomBytes(40),
        recipients: [alice.certificate],
        cipher: 'des-cbc',
        insecureAllowSingleDes: true,
      }),
      // Streamed BER from openssl: indefinite lengths and chunked content.
      openssl(
        ['cms', '-encrypt', '-binary', '-stream', '-outform', 'DER', '-des3', alice.certPath],
        randomBytes(3000),
      ),
    ];
    const recipients = [{ certificate: alice.certificate, privateKey: alice.privateKey }];
    const counts: Record<string, number> = {};
    for (let i = 0; i < runs; i++) {
      const seed = seeds[i % seeds.length] as Uint8Array;
      let input = Uint8Array.from(seed);
      const mode = i % 4;
      if (mode === 0) {
        for (let j = 0; j < 1 + (i % 4); j++)
          input[(Math.random() * input.length) | 0] = (Math.random() * 256) | 0;
      } else if (mode === 1) {
        input = input.subarray(0, (Math.random() * input.length) | 0);
      } else if (mode === 2) {
        // Header bytes (tags and lengths) matter most: mutate within the first 64 bytes.
        input[(Math.random() * Math.min(64, input.length)) | 0] = (Math.random() * 256) | 0;
      } else {
        const at = (Math.random() * input.length) | 0;
        input = Buffer.concat([input.subarray(0, at), randomBytes(1 + (i % 8)), input.subarray(at)]);
      }
      try {
        await decryptCms(input, { recipients });
        counts.ok = (counts.ok ?? 0) + 1;
      } catch (e) {
        if (!(e instanceof CryptoError)) throw new Error(`non-CryptoError escaped: ${String(e)}`);
        counts[e.code] = (counts[e.code] ?? 0) + 1;
      }
    }
    expect(Object.keys(counts).length).toBeGreaterThan(1);
  });
});
