import { describe, expect, it } from 'vitest';
import { CryptoError, createCsr, generateKeyPair, keysMatch, parseCsr, pemEncode } from '../src/index';
import { derSequence, derOid } from './support/der-writer';

describe('CSR', () => {
  it('builds and parses challengePassword, SAN and extra extensions', async () => {
    const { privateKey, publicKey } = await generateKeyPair({ type: 'rsa' });
    const eku = derSequence([derOid('1.3.6.1.5.5.7.3.2')]);
    const der = await createCsr({
      subject: 'CN=device-1234,O=Example',
      privateKey,
      challengePassword: 'enrol-secret',
      subjectAltNames: { dns: ['device.example.com'], ip: ['192.0.2.1'] },
      extensions: [{ oid: '2.5.29.37', value: eku }],
    });
    const csr = parseCsr(pemEncode('CERTIFICATE REQUEST', der));
    expect(csr.der).toEqual(der);
    expect(csr.subject.toString()).toBe('CN=device-1234,O=Example');
    expect(csr.challengePassword).toBe('enrol-secret');
    expect(csr.subjectAltNames).toEqual({ dns: ['device.example.com'], ip: ['192.0.2.1'] });
    expect(csr.extendedKeyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(csr.extensions.map((e) => e.oid)).toEqual(['2.5.29.17', '2.5.29.37']);
    expect(csr.attributes.map((a) => a.oid)).toEqual(['1.2.840.113549.1.9.7', '1.2.840.113549.1.9.14']);
    expect(csr.signatureAlgorithm).toBe('1.2.840.113549.1.1.11');
    expect(keysMatch(privateKey, csr.publicKey)).toBe(true);
    expect(keysMatch(privateKey, publicKey)).toBe(true);
    expect(csr.verifySignature()).toBe(true);
  });

  it('verifySignature fails on a tampered request; malformed input gives INVALID_CSR', async () => {
    const { privateKey } = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    const der = await createCsr({ subject: 'CN=aaaa', privateKey, hash: 'sha384' });
    expect(parseCsr(der).signatureAlgorithm).toBe('1.2.840.10045.4.3.3');
    const tampered = Uint8Array.from(der);
    const i = Buffer.from(der).indexOf(Buffer.from('aaaa'));
    tampered[i] = 0x62;
    const t = parseCsr(tampered);
    expect(t.subject.get('CN')).toBe('baaa');
    expect(t.verifySignature()).toBe(false);
    for (const bad of [der.subarray(0, 40), Uint8Array.of(0x30, 0x00), Uint8Array.of(0x05, 0x00)]) {
      try {
        parseCsr(bad);
        throw new Error('expected a throw');
      } catch (e) {
        expect(e).toBeInstanceOf(CryptoError);
        expect((e as CryptoError).code).toBe('INVALID_CSR');
      }
    }
  });
});
