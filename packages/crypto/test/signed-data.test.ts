import { sign } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  certificateCacheStats,
  clearCertificateCache,
  configureCertificateCache,
  CryptoError,
  createCertsOnlyCms,
  parseCertsOnlyCms,
  type Signer,
  signCms,
  verifyCms,
  verifyMdmSignature,
  readOctetStringAttributeValue,
  readStringAttributeValue,
} from '../src/index';
import { derOctetString, derPrintableString } from './support/der-writer';
import { fastVerifyDetached } from '../src/fast-signed-data';
import { makePki, type TestPki } from './sign-fixtures';

const RUNS = Number(process.env.MDMKIT_FUZZ_RUNS ?? 200);
const body = new TextEncoder().encode('<?xml version="1.0"?><plist><dict/></plist>');

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    return (e as CryptoError).code;
  }
  return undefined;
}

describe('CMS SignedData', () => {
  let rsa: TestPki;
  let ec: TestPki;
  beforeAll(async () => {
    [rsa, ec] = await Promise.all([makePki(), makePki({ type: 'ec', curve: 'P-384' })]);
  });

  it('signs and verifies attached and detached, RSA and EC, every hash', async () => {
    for (const pki of [rsa, ec]) {
      for (const hash of ['sha1', 'sha256', 'sha384', 'sha512'] as const) {
        for (const detached of [false, true]) {
          const der = await signCms({
            content: body,
            certificate: pki.leaf,
            privateKey: pki.leafKey,
            hash,
            detached,
            certificates: [pki.ca],
          });
          const r = await verifyCms(der, detached ? { detachedContent: body } : {});
          expect(r.content).toEqual(body);
          expect(r.hash).toBe(hash);
          expect(r.signer.fingerprintSha256).toBe(pki.leaf.fingerprintSha256);
          expect(r.certificates.map((c) => c.subject.get('CN'))).toEqual(['device-0001', 'Test CA']);
          expect(r.contentType).toBe('1.2.840.113549.1.7.1');
          expect(r.signingTime).toBeInstanceOf(Date);
        }
      }
    }
  });

  it('carries custom signed attributes (SCEP) and a custom content type', async () => {
    const nonce = Uint8Array.from({ length: 16 }, (_, i) => i);
    const der = await signCms({
      content: body,
      certificate: rsa.leaf,
      privateKey: rsa.leafKey,
      contentType: '1.2.840.113549.1.7.3',
      signingTime: new Date('2026-02-03T04:05:06Z'),
      signedAttributes: [
        { oid: '2.16.840.1.113733.1.9.2', values: [derPrintableString('19')] },
        { oid: '2.16.840.1.113733.1.9.5', values: [derOctetString(nonce)] },
      ],
    });
    const r = await verifyCms(der);
    expect(r.contentType).toBe('1.2.840.113549.1.7.3');
    expect(r.signingTime?.toISOString()).toBe('2026-02-03T04:05:06.000Z');
    const get = (oid: string) => r.signedAttributes.find((a) => a.oid === oid)!.values[0]!;
    expect(readStringAttributeValue(get('2.16.840.1.113733.1.9.2'))).toBe('19');
    expect(readOctetStringAttributeValue(get('2.16.840.1.113733.1.9.5'))).toEqual(nonce);
  });

  it('signs through an async Signer', async () => {
    const signer: Signer = { publicKey: ec.leaf.publicKey, sign: async (d, h) => sign(h, d, ec.leafKey) };
    const der = await signCms({ content: body, certificate: ec.leaf, privateKey: signer, detached: true });
    expect((await verifyCms(der, { detachedContent: body })).signer.subject.get('CN')).toBe('device-0001');
  });

  it('detects tampering with content, attributes and signature', async () => {
    const der = await signCms({
      content: body,
      certificate: rsa.leaf,
      privateKey: rsa.leafKey,
      detached: true,
    });
    const other = Uint8Array.from(body);
    other[0] = 0x20;
    expect(await codeOf(verifyCms(der, { detachedContent: other }))).toBe('SIGNATURE_INVALID');
    const sigFlipped = Uint8Array.from(der);
    sigFlipped[sigFlipped.length - 5]! ^= 1;
    expect(await codeOf(verifyCms(sigFlipped, { detachedContent: body }))).toBe('SIGNATURE_INVALID');
    // Change one byte of the signingTime inside the signed attributes.
    // Found by its OID in bytes (a hex-text search can match across a byte boundary, or inside the signature).
    const derBuf = Buffer.from(der);
    const signingTimeOid = derBuf.indexOf(Buffer.from('06092a864886f70d010905', 'hex'));
    const at = derBuf.indexOf(Buffer.from('170d', 'hex'), signingTimeOid) + 4;
    const attrFlipped = Uint8Array.from(der);
    attrFlipped[at] = attrFlipped[at] === 0x30 ? 0x31 : 0x30;
    expect(await codeOf(verifyCms(attrFlipped, { detachedContent: body }))).toBe('SIGNATURE_INVALID');
    expect(await codeOf(verifyCms(der))).toBe('INVALID_CMS');
    // Attached content must not be swapped for a different detachedContent.
    const attached = await signCms({ content: body, certificate: rsa.leaf, privateKey: rsa.leafKey });
    expect(await codeOf(verifyCms(attached, { detachedContent: other }))).toBe('SIGNATURE_INVALID');
  });

  it('reports the signer missing, bad structure and unsupported algorithms with codes', async () => {
    const der = await signCms({ content: body, certificate: rsa.leaf, privateKey: rsa.leafKey });
    expect(await codeOf(verifyCms(Uint8Array.of(0x30, 0x03, 0x06, 0x01, 0x2a)))).toBe('INVALID_CMS');
    expect(await codeOf(verifyCms(der.subarray(0, der.length - 10)))).toBe('INVALID_CMS');
    // sha256 digest OID → an unknown digest OID (same length).
    const sha256Oid = '0609608648016503040201';
    const unknown = Buffer.from(
      Buffer.from(der).toString('hex').replaceAll(sha256Oid, '060960864801650304027f'),
      'hex',
    );
    expect(await codeOf(verifyCms(unknown))).toBe('UNSUPPORTED_ALGORITHM');
  });

  it('certs-only SignedData round-trips in order', () => {
    const der = createCertsOnlyCms([rsa.leaf, rsa.ca]);
    expect(parseCertsOnlyCms(der).map((c) => c.fingerprintSha256)).toEqual([
      rsa.leaf.fingerprintSha256,
      rsa.ca.fingerprintSha256,
    ]);
    expect(
      parseCertsOnlyCms(
        Buffer.from(`-----BEGIN PKCS7-----\n${Buffer.from(der).toString('base64')}\n-----END PKCS7-----\n`),
      ).length,
    ).toBe(2);
  });

  it('fuzz: mutated SignedData only ever throws CryptoError', async () => {
    const der = await signCms({
      content: body,
      certificate: ec.leaf,
      privateKey: ec.leafKey,
      certificates: [ec.ca],
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(der.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.nat(der.length),
        async (edits, cut) => {
          const m = Uint8Array.from(der);
          for (const [i, v] of edits) m[i] = v;
          for (const input of [m, m.subarray(0, cut)]) {
            await verifyCms(input).catch((e) => expect(e).toBeInstanceOf(CryptoError));
            await verifyMdmSignature(Buffer.from(input).toString('base64'), body).catch((e) =>
              expect(e).toBeInstanceOf(CryptoError),
            );
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('verifyMdmSignature', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makePki();
  });

  it('returns the signer, caches it, and rejects bad headers', async () => {
    clearCertificateCache();
    const der = await signCms({
      content: body,
      certificate: pki.leaf,
      privateKey: pki.leafKey,
      detached: true,
    });
    const header = Buffer.from(der).toString('base64');
    const first = await verifyMdmSignature(header, body);
    expect(first.fingerprintSha256).toBe(pki.leaf.fingerprintSha256);
    const second = await verifyMdmSignature(header, body);
    expect(second).toBe(first);
    const stats = certificateCacheStats();
    expect(stats.misses).toBe(1);
    expect(stats.hits).toBe(1);
    expect(await codeOf(verifyMdmSignature(header, new TextEncoder().encode('other body')))).toBe(
      'SIGNATURE_INVALID',
    );
    expect(await codeOf(verifyMdmSignature('', body))).toBe('INVALID_CMS');
    expect(await codeOf(verifyMdmSignature('%%%not base64%%%', body))).toBe('INVALID_CMS');
    expect(await codeOf(verifyMdmSignature(Buffer.from('hello').toString('base64'), body))).toBe(
      'INVALID_CMS',
    );
    expect(await codeOf(verifyMdmSignature('A'.repeat(200_000), body))).toBe('LIMIT_EXCEEDED');
    // An attached signature over other bytes must not vouch for this body.
    const attached = await signCms({
      content: new TextEncoder().encode('x'),
      certificate: pki.leaf,
      privateKey: pki.leafKey,
    });
    expect(await codeOf(verifyMdmSignature(Buffer.from(attached).toString('base64'), body))).toBe(
      'SIGNATURE_INVALID',
    );
  });

  it('the fast path accepts exactly what the general verifier accepts and leaves the rest to it', async () => {
    const ca = (await makePki({ type: 'ec', curve: 'P-256' })).ca;
    for (const hash of ['sha1', 'sha256', 'sha384', 'sha512'] as const) {
      const der = await signCms({
        content: body,
        certificate: pki.leaf,
        privateKey: pki.leafKey,
        detached: true,
        hash,
        certificates: [ca],
      });
      const copy = Uint8Array.from(der);
      expect(fastVerifyDetached(copy, body)?.fingerprintSha256).toBe(pki.leaf.fingerprintSha256);
      expect(copy).toEqual(der); // the temporary tag swap is undone
      expect(fastVerifyDetached(Uint8Array.from(der), body.subarray(1))).toBeUndefined();
      const badSig = Uint8Array.from(der);
      badSig[badSig.length - 3]! ^= 0x40;
      expect(fastVerifyDetached(badSig, body)).toBeUndefined();
    }
    const attached = await signCms({ content: body, certificate: pki.leaf, privateKey: pki.leafKey });
    expect(fastVerifyDetached(Uint8Array.from(attached), body)).toBeUndefined();
    const otherType = await signCms({
      content: body,
      certificate: pki.leaf,
      privateKey: pki.leafKey,
      detached: true,
      contentType: '1.2.3.4',
    });
    expect(fastVerifyDetached(Uint8Array.from(otherType), body)).toBeUndefined();
    // ...which the general path still verifies.
    expect((await verifyCms(otherType, { detachedContent: body })).contentType).toBe('1.2.3.4');
    // Truncations never throw.
    for (let cut = 0; cut < attached.length; cut += 7)
      expect(fastVerifyDetached(attached.slice(0, cut), body)).toBeUndefined();
  });

  it('the cache is bounded (LRU)', async () => {
    clearCertificateCache();
    configureCertificateCache({ capacity: 2 });
    try {
      const pkis = [
        pki,
        await makePki({ type: 'ec', curve: 'P-256' }),
        await makePki({ type: 'ec', curve: 'P-256' }),
      ];
      for (const p of pkis) {
        const der = await signCms({
          content: body,
          certificate: p.leaf,
          privateKey: p.leafKey,
          detached: true,
        });
        await verifyMdmSignature(Buffer.from(der).toString('base64'), body);
      }
      expect(certificateCacheStats().size).toBe(2);
    } finally {
      configureCertificateCache({ capacity: 1024 });
    }
  });
});
