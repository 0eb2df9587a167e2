import { describe, expect, it } from 'vitest';
import {
  createSelfSignedCa,
  encodeName,
  generateKeyPair,
  issueCertificate,
  parseCertificate,
  parseCertificates,
  randomSerialNumber,
  type Signer,
  toDistinguishedName,
  verifyCertificateChain,
  verifyCertificateSignature,
} from '../src/index';
import { derOctetString, derUtf8String } from './support/der-writer';
import { sign } from 'node:crypto';
import { codeOf } from './support/error-code';

describe('names', () => {
  it('keeps written order, escapes, and resolves short names and OIDs', () => {
    const dn = toDistinguishedName('CN=a\\, b,O=Example+OU=IT,C=US');
    // A multi-valued RDN is a DER SET: encoded sorted, printed joined with '+'.
    expect(dn.toString()).toBe('CN=a\\, b,OU=IT+O=Example,C=US');
    expect(dn.get('cn')).toBe('a, b');
    expect(dn.get('2.5.4.10')).toBe('Example');
    expect(dn.attributes.map((a) => a.shortName)).toEqual(['CN', 'OU', 'O', 'C']);
    const rec = toDistinguishedName({ UID: 'com.apple.mgmt.External.x', CN: 'APSP:x', '1.2.3.4': 'custom' });
    expect(rec.attributes.map((a) => a.oid)).toEqual(['0.9.2342.19200300.100.1.1', '2.5.4.3', '1.2.3.4']);
    expect(rec.toString()).toBe('UID=com.apple.mgmt.External.x,CN=APSP:x,1.2.3.4=custom');
    expect(codeOf(() => encodeName('XX=1'))).toBe('INVALID_CERTIFICATE');
    expect(toDistinguishedName('CN=Caf\\C3\\A9 \\2B1,O=x').get('CN')).toBe('Café +1');
    // A parsed name is re-used byte for byte.
    expect(encodeName(dn)).toEqual(dn.der);
    expect(toDistinguishedName(dn).toString()).toBe(dn.toString());
  });
});

describe('issue and parse certificates', () => {
  it('self-signed CA and a leaf with every extension, read back', async () => {
    const { certificate: ca, privateKey: caKey } = await createSelfSignedCa({
      subject: 'CN=Example CA,O=Example',
      pathLength: 0,
    });
    expect(ca.isCA).toBe(true);
    expect(ca.pathLength).toBe(0);
    expect(ca.keyUsage).toEqual(['digitalSignature', 'keyCertSign', 'cRLSign']);
    expect(ca.subject.toString()).toBe(ca.issuer.toString());
    expect(ca.subjectKeyIdentifier).toBe(ca.authorityKeyIdentifier);
    expect(verifyCertificateSignature(ca, ca)).toBe(true);

    const kp = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const leaf = await issueCertificate({
      subject: [
        { oid: 'UID', value: 'com.apple.mgmt.External.abc' },
        { oid: 'CN', value: 'APSP:abc' },
      ],
      publicKey: kp.publicKey,
      issuer: ca,
      issuerKey: caKey,
      serialNumber: '00ABCDEF',
      notBefore,
      validityDays: 30,
      keyUsage: ['digitalSignature', 'keyAgreement'],
      extendedKeyUsage: ['clientAuth', '1.2.3.4.5'],
      subjectAltNames: {
        dns: ['a.example'],
        ip: ['10.1.2.3', '2001:db8::1'],
        email: ['x@example.com'],
        uri: ['urn:x'],
      },
      extraExtensions: [
        { oid: '1.2.840.113635.100.6.3.1', value: Uint8Array.of(5, 0) },
        { oid: '1.2.840.113635.100.6.3.2', critical: true, value: derUtf8String('x') },
      ],
    });
    const again = parseCertificate(leaf.pem);
    expect(again.der).toEqual(leaf.der);
    expect(again.serialNumber).toBe('abcdef');
    expect(again.subjectUid).toBe('com.apple.mgmt.External.abc');
    expect(again.issuer.toString()).toBe('CN=Example CA,O=Example');
    expect(again.notBefore.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(again.notAfter.toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(again.isCA).toBe(false);
    expect(again.keyUsage).toEqual(['digitalSignature', 'keyAgreement']);
    expect(again.extendedKeyUsage).toEqual(['1.3.6.1.5.5.7.3.2', '1.2.3.4.5']);
    expect(again.subjectAltNames).toEqual({
      dns: ['a.example'],
      ip: ['10.1.2.3', '2001:db8::1'],
      email: ['x@example.com'],
      uri: ['urn:x'],
    });
    expect(again.authorityKeyIdentifier).toBe(ca.subjectKeyIdentifier);
    const push = again.extensions.find((e) => e.oid === '1.2.840.113635.100.6.3.2');
    expect(push?.critical).toBe(true);
    expect(push?.value).toEqual(derUtf8String('x'));
    expect(again.extensions.find((e) => e.oid === '1.2.840.113635.100.6.3.1')?.value).toEqual(
      Uint8Array.of(5, 0),
    );
    expect(again.fingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(again.fingerprintSha1).toMatch(/^[0-9a-f]{40}$/);
    expect(again.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(Object.isFrozen(again)).toBe(true);
    expect(verifyCertificateSignature(again, ca)).toBe(true);
    expect(parseCertificates(ca.pem + leaf.pem).map((c) => c.serialNumber)).toEqual([
      ca.serialNumber,
      'abcdef',
    ]);
    expect(parseCertificates(Buffer.concat([ca.der, leaf.der])).length).toBe(2);
  });

  it('random serials are 16 bytes and positive', () => {
    for (let i = 0; i < 50; i++) {
      const s = randomSerialNumber();
      expect(s).toMatch(/^[0-7][0-9a-f]{31}$/);
    }
  });

  it('signs through an async Signer (KMS/HSM stand-in) with ECDSA P-384 and SHA-384', async () => {
    const kp = await generateKeyPair({ type: 'ec', curve: 'P-384' });
    let calls = 0;
    const signer: Signer = {
      publicKey: kp.publicKey,
      async sign(data, hash) {
        calls++;
        return sign(hash, data, kp.privateKey);
      },
    };
    const ca = await issueCertificate({
      subject: 'CN=HSM CA',
      publicKey: kp.publicKey,
      issuerKey: signer,
      isCA: true,
    });
    expect(calls).toBe(1);
    expect(ca.signatureAlgorithm).toBe('1.2.840.10045.4.3.3');
    expect(verifyCertificateSignature(ca, ca)).toBe(true);
    const failing: Signer = {
      publicKey: kp.publicKey,
      sign: async () => Promise.reject(new Error('hsm down')),
    };
    await expect(
      issueCertificate({ subject: 'CN=x', publicKey: kp.publicKey, issuerKey: failing }),
    ).rejects.toMatchObject({
      code: 'KEY_PROVIDER_FAILED',
    });
  });

  it('refuses a key that does not match the issuer and a non-CA issuer', async () => {
    const a = await createSelfSignedCa({
      subject: 'CN=A',
      key: await generateKeyPair({ type: 'ec', curve: 'P-256' }),
    });
    const other = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    await expect(
      issueCertificate({
        subject: 'CN=x',
        publicKey: other.publicKey,
        issuer: a.certificate,
        issuerKey: other.privateKey,
      }),
    ).rejects.toMatchObject({ code: 'KEY_MISMATCH' });
    const leaf = await issueCertificate({
      subject: 'CN=leaf',
      publicKey: other.publicKey,
      issuer: a.certificate,
      issuerKey: a.privateKey,
    });
    await expect(
      issueCertificate({
        subject: 'CN=y',
        publicKey: other.publicKey,
        issuer: leaf,
        issuerKey: other.privateKey,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_CERTIFICATE' });
  });

  it('bad certificates give INVALID_CERTIFICATE', async () => {
    const { certificate } = await createSelfSignedCa({
      subject: 'CN=x',
      key: await generateKeyPair({ type: 'ec', curve: 'P-256' }),
    });
    expect(codeOf(() => parseCertificate(certificate.der.subarray(0, 100)))).toBe('INVALID_CERTIFICATE');
    expect(codeOf(() => parseCertificate(derOctetString(Uint8Array.of(1))))).toBe('INVALID_CERTIFICATE');
    expect(codeOf(() => parseCertificate('no pem here'))).toBe('INVALID_PEM');
  });
});

describe('verifyCertificateChain', () => {
  it('walks leaf → intermediate → root with time, CA and EKU checks', async () => {
    const ec = () => generateKeyPair({ type: 'ec', curve: 'P-256' });
    const root = await createSelfSignedCa({ subject: 'CN=Root', key: await ec() });
    const interKp = await ec();
    const inter = await issueCertificate({
      subject: 'CN=Intermediate',
      publicKey: interKp.publicKey,
      issuer: root.certificate,
      issuerKey: root.privateKey,
      isCA: true,
      pathLength: 0,
    });
    const leafKp = await ec();
    const leaf = await issueCertificate({
      subject: 'CN=device',
      publicKey: leafKp.publicKey,
      issuer: inter,
      issuerKey: interKp.privateKey,
      extendedKeyUsage: ['clientAuth'],
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2030-01-01T00:00:00Z'),
    });
    const at = new Date('2027-01-01T00:00:00Z');
    const path = verifyCertificateChain(leaf, {
      trusted: [root.certificate],
      intermediates: [inter],
      at,
      requiredEku: 'clientAuth',
    });
    expect(path.map((c) => c.subject.get('CN'))).toEqual(['device', 'Intermediate', 'Root']);
    expect(codeOf(() => verifyCertificateChain(leaf, { trusted: [root.certificate], at }))).toBe(
      'CHAIN_INVALID',
    );
    expect(
      codeOf(() =>
        verifyCertificateChain(leaf, {
          trusted: [root.certificate],
          intermediates: [inter],
          at,
          requiredEku: 'serverAuth',
        }),
      ),
    ).toBe('CHAIN_INVALID');
    expect(
      codeOf(() =>
        verifyCertificateChain(leaf, {
          trusted: [root.certificate],
          intermediates: [inter],
          at: new Date('2031-01-01T00:00:00Z'),
        }),
      ),
    ).toBe('CERTIFICATE_EXPIRED');
    expect(
      codeOf(() =>
        verifyCertificateChain(leaf, {
          trusted: [root.certificate],
          intermediates: [inter],
          at: new Date('2025-06-01T00:00:00Z'),
        }),
      ),
    ).toBe('CERTIFICATE_NOT_YET_VALID');
    // Same names, different key: the signature check must reject it.
    const fakeRoot = await createSelfSignedCa({ subject: 'CN=Root', key: await ec() });
    expect(
      codeOf(() =>
        verifyCertificateChain(leaf, { trusted: [fakeRoot.certificate], intermediates: [inter], at }),
      ),
    ).toBe('CHAIN_INVALID');
    // pathLength 0 on the intermediate forbids another CA below it.
    const subKp = await ec();
    const sub = await issueCertificate({
      subject: 'CN=Sub',
      publicKey: subKp.publicKey,
      issuer: inter,
      issuerKey: interKp.privateKey,
      isCA: true,
    });
    const deep = await issueCertificate({
      subject: 'CN=deep',
      publicKey: leafKp.publicKey,
      issuer: sub,
      issuerKey: subKp.privateKey,
    });
    expect(
      codeOf(() =>
        verifyCertificateChain(deep, { trusted: [root.certificate], intermediates: [inter, sub] }),
      ),
    ).toBe('CHAIN_INVALID');
    // A trusted leaf is its own path.
    expect(verifyCertificateChain(leaf, { trusted: [leaf], at }).length).toBe(1);
  });

  it('rejects unknown critical extensions', async () => {
    const ca = await createSelfSignedCa({
      subject: 'CN=CA',
      key: await generateKeyPair({ type: 'ec', curve: 'P-256' }),
    });
    const kp = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    const leaf = await issueCertificate({
      subject: 'CN=x',
      publicKey: kp.publicKey,
      issuer: ca.certificate,
      issuerKey: ca.privateKey,
      extraExtensions: [{ oid: '1.2.3.4', critical: true, value: Uint8Array.of(5, 0) }],
    });
    expect(codeOf(() => verifyCertificateChain(leaf, { trusted: [ca.certificate] }))).toBe('CHAIN_INVALID');
  });
});
