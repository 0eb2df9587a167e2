import { requirePeer } from '@mdmkit/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCertsOnlyCms,
  createCsr,
  createSelfSignedCa,
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  issueCertificate,
  parseCertificate,
  parseCertsOnlyCms,
  parseCsr,
  pemEncode,
  signCms,
  verifyCms,
  verifyMdmSignature,
} from '../src/index';
import { makePki, runOpenssl, Scratch, type TestPki } from './sign-fixtures';

const ok = requirePeer({ name: 'openssl', probe: ['openssl', 'version'] }, 'OpenSSL sign/verify interop');

function openssl(args: string[], input?: Uint8Array): string {
  const r = runOpenssl(args, input);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout + r.stderr;
}

describe.skipIf(!ok)('OpenSSL interop: certificates, CSRs, SignedData', () => {
  const s = new Scratch();
  let rsa: TestPki;
  let ec: TestPki;
  const body = new TextEncoder().encode(`<plist>${'x'.repeat(3000)}</plist>\n`);

  beforeAll(async () => {
    [rsa, ec] = await Promise.all([
      makePki(),
      makePki({ type: 'ec', curve: 'P-256' }, ['clientAuth', 'emailProtection']),
    ]);
    s.write('rsa-ca.pem', rsa.ca.pem);
    s.write('rsa-leaf.pem', rsa.leaf.pem);
    s.write('rsa-ca.key', exportPrivateKey(rsa.caKey, 'pkcs8-pem'));
    s.write('rsa-leaf.key', exportPrivateKey(rsa.leafKey, 'pkcs8-pem'));
    s.write('ec-ca.pem', ec.ca.pem);
    s.write('ec-leaf.pem', ec.leaf.pem);
    s.write('ec-leaf.key', exportPrivateKey(ec.leafKey, 'sec1-pem'));
    s.write('body.bin', body);
  });
  afterAll(() => s.dispose());

  it('openssl verify accepts our chain and x509 -text shows the extensions we asked for', async () => {
    const rootKp = await generateKeyPair({ type: 'ec', curve: 'P-384' });
    const root = await createSelfSignedCa({
      subject: 'CN=Interop Root,O=mdmkit',
      key: rootKp,
      pathLength: 1,
    });
    const interKp = await generateKeyPair({ type: 'rsa' });
    const inter = await issueCertificate({
      subject: 'CN=Interop Intermediate,O=mdmkit',
      publicKey: interKp.publicKey,
      issuer: root.certificate,
      issuerKey: root.privateKey,
      isCA: true,
      pathLength: 0,
    });
    const leafKp = await generateKeyPair({ type: 'rsa' });
    const leaf = await issueCertificate({
      subject: [
        { oid: 'UID', value: 'com.apple.mgmt.External.0f1e2d3c' },
        { oid: 'CN', value: 'APSP:0f1e2d3c' },
        { oid: 'C', value: 'US' },
      ],
      publicKey: leafKp.publicKey,
      issuer: inter,
      issuerKey: interKp.privateKey,
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      extendedKeyUsage: ['clientAuth', 'serverAuth'],
      subjectAltNames: {
        dns: ['push.example.com'],
        ip: ['10.0.0.1', '2001:db8::5'],
        email: ['ops@example.com'],
        uri: ['https://example.com/x'],
      },
      extraExtensions: [
        { oid: '1.2.840.113635.100.6.3.1', value: Uint8Array.of(5, 0) },
        { oid: '1.2.840.113635.100.6.3.2', value: Uint8Array.of(5, 0) },
      ],
    });
    s.write('root.pem', root.certificate.pem);
    s.write('inter.pem', inter.pem);
    s.write('leaf.pem', leaf.pem);
    expect(
      openssl([
        'verify',
        '-CAfile',
        s.path('root.pem'),
        '-untrusted',
        s.path('inter.pem'),
        s.path('leaf.pem'),
      ]),
    ).toMatch(/leaf\.pem: OK/);
    expect(
      openssl([
        'verify',
        '-CAfile',
        s.path('root.pem'),
        '-untrusted',
        s.path('inter.pem'),
        '-purpose',
        'sslclient',
        s.path('leaf.pem'),
      ]),
    ).toMatch(/OK/);
    const text = openssl(['x509', '-in', s.path('leaf.pem'), '-noout', '-text']);
    expect(text).toMatch(/Subject: UID = com\.apple\.mgmt\.External\.0f1e2d3c, CN = APSP:0f1e2d3c, C = US/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(text).toMatch(
      /Extended Key Usage:\s+TLS Web Client Authentication, TLS Web Server Authentication/,
    );
    expect(text).toMatch(/DNS:push\.example\.com/);
    expect(text).toMatch(/IP Address:10\.0\.0\.1/);
    expect(text).toMatch(/IP Address:2001:DB8:0:0:0:0:0:5/i);
    expect(text).toMatch(/email:ops@example\.com/);
    expect(text).toMatch(/URI:https:\/\/example\.com\/x/);
    expect(text).toMatch(/1\.2\.840\.113635\.100\.6\.3\.1/);
    expect(text).toMatch(/1\.2\.840\.113635\.100\.6\.3\.2/);
    expect(text).toMatch(/Subject Key Identifier/);
    expect(text).toMatch(/Authority Key Identifier/);
    const caText = openssl(['x509', '-in', s.path('inter.pem'), '-noout', '-text']);
    expect(caText).toMatch(/CA:TRUE, pathlen:0/);
    expect(caText).toMatch(/Certificate Sign, CRL Sign/);
    expect(openssl(['x509', '-in', s.path('root.pem'), '-noout', '-text'])).toMatch(/ecdsa-with-SHA384/);
    const serial = openssl(['x509', '-in', s.path('leaf.pem'), '-noout', '-serial'])
      .trim()
      .split('=')[1]!;
    expect(serial.toLowerCase().replace(/^0+/, '')).toBe(leaf.serialNumber.replace(/^0+/, ''));
  });

  it('openssl req -verify accepts our CSRs and shows challengePassword and extensions', async () => {
    for (const [name, key] of [
      ['rsa', rsa.leafKey],
      ['ec', ec.leafKey],
    ] as const) {
      const der = await createCsr({
        subject: 'CN=device-abc,O=mdmkit',
        privateKey: key,
        challengePassword: 'p4ss-word',
        subjectAltNames: { dns: ['device-abc.example.com'] },
      });
      const p = s.write(`${name}.csr`, pemEncode('CERTIFICATE REQUEST', der));
      const out = openssl(['req', '-in', p, '-verify', '-noout', '-text']);
      expect(out).toMatch(/verify OK/i);
      expect(out).toMatch(/challengePassword\s*:p4ss-word/);
      expect(out).toMatch(/DNS:device-abc\.example\.com/);
    }
  });

  it('we parse CSRs and certificates made by openssl', () => {
    openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-384',
      '-nodes',
      '-keyout',
      s.path('o.key'),
      '-out',
      s.path('o.csr'),
      '-subj',
      '/CN=from openssl/O=Org',
      '-addext',
      'subjectAltName=DNS:o.example',
      '-passin',
      'pass:x',
    ]);
    const csr = parseCsr(s.read('o.csr'));
    expect(csr.subject.toString()).toBe('CN=from openssl,O=Org');
    expect(csr.subjectAltNames?.dns).toEqual(['o.example']);
    expect(csr.verifySignature()).toBe(true);
    openssl([
      'x509',
      '-req',
      '-in',
      s.path('o.csr'),
      '-CA',
      s.path('rsa-ca.pem'),
      '-CAkey',
      s.path('rsa-ca.key'),
      '-out',
      s.path('o.pem'),
      '-days',
      '10',
      '-copy_extensions',
      'copy',
    ]);
    const cert = parseCertificate(s.read('o.pem'));
    expect(cert.issuer.toString()).toBe(rsa.ca.subject.toString());
    expect(cert.subjectAltNames?.dns).toEqual(['o.example']);
    const fp = openssl(['x509', '-in', s.path('o.pem'), '-noout', '-fingerprint', '-sha256'])
      .split('=')[1]!
      .trim();
    expect(fp.replaceAll(':', '').toLowerCase()).toBe(cert.fingerprintSha256);
    expect(importPrivateKey(s.read('o.key')).asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
  });

  describe('openssl signs → we verify', () => {
    const cases: [string, string[], boolean][] = [
      ['smime -sign RSA attached', ['smime', '-sign', '-nodetach'], false],
      ['smime -sign RSA detached', ['smime', '-sign'], true],
      ['cms -sign EC detached', ['cms', '-sign'], true],
      [
        'cms -sign EC attached, streamed (BER indefinite length)',
        ['cms', '-sign', '-nodetach', '-stream'],
        false,
      ],
      ['cms -sign EC SHA-384', ['cms', '-sign', '-nodetach', '-md', 'sha384'], false],
      ['cms -sign RSA SHA-1', ['cms', '-sign', '-md', 'sha1'], true],
      ['cms -sign RSA SHA-512 without signed attributes', ['cms', '-sign', '-noattr', '-md', 'sha512'], true],
    ];
    it.each(cases)('%s', async (name, args, detached) => {
      const who = name.includes('EC') ? 'ec' : 'rsa';
      const out = s.path(`${name.replace(/\W+/g, '_')}.der`);
      openssl([
        ...args,
        '-binary',
        '-in',
        s.path('body.bin'),
        '-signer',
        s.path(`${who}-leaf.pem`),
        '-inkey',
        s.path(`${who}-leaf.key`),
        '-outform',
        'DER',
        '-out',
        out,
      ]);
      const der = new Uint8Array(s.read(out.split('/').pop()!));
      const r = await verifyCms(der, detached ? { detachedContent: body } : {});
      expect(r.content).toEqual(body);
      expect(r.signer.fingerprintSha256).toBe((who === 'ec' ? ec : rsa).leaf.fingerprintSha256);
      if (args.includes('sha384')) expect(r.hash).toBe('sha384');
      if (args.includes('-noattr')) expect(r.signedAttributes).toEqual([]);
      if (detached) {
        const signer = await verifyMdmSignature(Buffer.from(der).toString('base64'), body);
        expect(signer.subject.get('CN')).toBe('device-0001');
        const tampered = Uint8Array.from(body);
        tampered[10]! ^= 1;
        await expect(verifyCms(der, { detachedContent: tampered })).rejects.toMatchObject({
          code: 'SIGNATURE_INVALID',
        });
      }
    });

    it('signer identified by subjectKeyIdentifier (-keyid), and a signer certificate left out (-nocerts)', async () => {
      const sign = (extra: string[], name: string) => {
        openssl([
          'cms',
          '-sign',
          '-binary',
          ...extra,
          '-in',
          s.path('body.bin'),
          '-signer',
          s.path('rsa-leaf.pem'),
          '-inkey',
          s.path('rsa-leaf.key'),
          '-outform',
          'DER',
          '-out',
          s.path(name),
        ]);
        return new Uint8Array(s.read(name));
      };
      const keyid = await verifyCms(sign(['-keyid'], 'keyid.der'), { detachedContent: body });
      expect(keyid.signer.fingerprintSha256).toBe(rsa.leaf.fingerprintSha256);
      const nocerts = sign(['-nocerts'], 'nocerts.der');
      await expect(verifyCms(nocerts, { detachedContent: body })).rejects.toMatchObject({
        code: 'INVALID_CMS',
      });
      const r = await verifyCms(nocerts, { detachedContent: body, certificates: [rsa.ca, rsa.leaf] });
      expect(r.signer.fingerprintSha256).toBe(rsa.leaf.fingerprintSha256);
      expect(r.certificates).toEqual([]);
    });

    it('PEM (-outform PEM) input is accepted', async () => {
      const out = openssl([
        'cms',
        '-sign',
        '-nodetach',
        '-binary',
        '-in',
        s.path('body.bin'),
        '-signer',
        s.path('ec-leaf.pem'),
        '-inkey',
        s.path('ec-leaf.key'),
        '-outform',
        'PEM',
      ]);
      expect((await verifyCms(out)).content).toEqual(body);
    });
  });

  describe('we sign → openssl cms -verify accepts', () => {
    for (const who of ['rsa', 'ec'] as const) {
      for (const detached of [false, true]) {
        it(`${who} ${detached ? 'detached' : 'attached'}`, async () => {
          const pki = who === 'rsa' ? rsa : ec;
          const der = await signCms({
            content: body,
            certificate: pki.leaf,
            privateKey: pki.leafKey,
            detached,
            certificates: [pki.ca],
          });
          const p = s.write(`ours-${who}-${detached}.der`, der);
          const args = [
            'cms',
            '-verify',
            '-binary',
            '-inform',
            'DER',
            '-in',
            p,
            '-CAfile',
            s.path(`${who}-ca.pem`),
            '-purpose',
            'any',
            '-out',
            s.path('out.bin'),
          ];
          if (detached) args.push('-content', s.path('body.bin'));
          expect(openssl(args)).toMatch(/Verification successful/);
          expect(new Uint8Array(s.read('out.bin'))).toEqual(body);
          const sm = [
            'smime',
            '-verify',
            '-binary',
            '-inform',
            'DER',
            '-in',
            p,
            '-CAfile',
            s.path(`${who}-ca.pem`),
            '-purpose',
            'any',
            '-out',
            s.path('out2.bin'),
          ];
          if (detached) sm.push('-content', s.path('body.bin'));
          expect(openssl(sm)).toMatch(/Verification successful/);
          // A changed body must fail openssl's verification too.
          if (detached) {
            const bad = Uint8Array.from(body);
            bad[0]! ^= 1;
            s.write('bad.bin', bad);
            const r = runOpenssl([
              'cms',
              '-verify',
              '-binary',
              '-inform',
              'DER',
              '-in',
              p,
              '-CAfile',
              s.path(`${who}-ca.pem`),
              '-purpose',
              'any',
              '-content',
              s.path('bad.bin'),
            ]);
            expect(r.status).not.toBe(0);
          }
        });
      }
    }

    it('certs-only SignedData reads in openssl and openssl certs-only reads in ours', () => {
      const p = s.write('certs.p7b', createCertsOnlyCms([rsa.leaf, rsa.ca]));
      const out = openssl(['pkcs7', '-inform', 'DER', '-in', p, '-print_certs', '-noout']);
      expect(out).toMatch(/subject=.*CN ?= ?device-0001/);
      expect(out).toMatch(/subject=.*CN ?= ?Test CA/);
      openssl([
        'crl2pkcs7',
        '-nocrl',
        '-certfile',
        s.path('ec-leaf.pem'),
        '-certfile',
        s.path('ec-ca.pem'),
        '-outform',
        'DER',
        '-out',
        s.path('o.p7b'),
      ]);
      expect(parseCertsOnlyCms(new Uint8Array(s.read('o.p7b'))).map((c) => c.fingerprintSha256)).toEqual([
        ec.leaf.fingerprintSha256,
        ec.ca.fingerprintSha256,
      ]);
    });
  });
});
