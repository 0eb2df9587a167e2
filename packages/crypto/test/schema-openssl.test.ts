// OpenSSL reads what the schema classes now build, for the cases the older interop tests did not
// cover: multi-valued and non-ASCII names, UTF8String challenge passwords, IPv4-mapped IPv6 names,
// requested extra extensions, and the SCEP IssuerAndSerialNumber.
import { afterAll, describe, expect, it } from 'vitest';
import {
  createCsr,
  createSelfSignedCa,
  encodeIssuerAndSerial,
  generateKeyPair,
  issueCertificate,
  parseCsr,
  pemEncode,
} from '../src/index';
import { openssl, opensslAvailable, opensslStatus, TempDir } from './support/openssl';

const ok = opensslAvailable('schema-built structures read by openssl');

describe.skipIf(!ok)('OpenSSL reads schema-built names, CSRs, certificates and IssuerAndSerialNumber', () => {
  const dir = new TempDir();
  afterAll(() => dir.remove());

  it('a certificate with a multi-valued RDN, UTF-8 and e-mail attributes and an IPv4-mapped IPv6 name', async () => {
    const ca = await createSelfSignedCa({ subject: 'CN=Grüße CA,O=Example+OU=IT,C=US' });
    const leafKey = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    const leaf = await issueCertificate({
      subject: [
        { oid: 'CN', value: 'device-1' },
        { oid: 'emailAddress', value: 'device-1@example.com' },
      ],
      publicKey: leafKey.publicKey,
      issuer: ca.certificate,
      issuerKey: ca.privateKey,
      subjectAltNames: { ip: ['::ffff:192.0.2.7', '192.0.2.8'], uri: ['https://example.com/d/1'] },
      extendedKeyUsage: ['clientAuth'],
    });
    const caPath = dir.file('ca.pem', ca.certificate.pem);
    const leafPath = dir.file('leaf.pem', leaf.pem);
    expect(openssl(['verify', '-CAfile', caPath, leafPath]).toString()).toMatch(/OK/);
    const subject = openssl(['x509', '-in', caPath, '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb'])
      .toString()
      .trim();
    // RFC 2253 order is reversed; the multi-valued RDN is sorted by encoding (OU's OID sorts after O's).
    expect(subject).toBe('subject=C=US,O=Example+OU=IT,CN=Grüße CA');
    const text = openssl(['x509', '-in', leafPath, '-noout', '-text']).toString();
    expect(text).toMatch(/IP Address:0:0:0:0:0:FFFF:C000:207/i);
    expect(text).toMatch(/IP Address:192\.0\.2\.8/);
    expect(text).toMatch(/URI:https:\/\/example\.com\/d\/1/);
    expect(text).toMatch(/emailAddress\s*=\s*device-1@example\.com/);
  });

  it('a CSR with a UTF8String challengePassword and a requested extra extension verifies', async () => {
    const { privateKey } = await generateKeyPair({ type: 'rsa', bits: 2048 });
    const der = await createCsr({
      subject: 'CN=device-ü',
      privateKey,
      challengePassword: 'pässwort_1',
      extensions: [
        { oid: '2.5.29.37', value: Uint8Array.of(0x30, 0x0a, 0x06, 0x08, 0x2b, 6, 1, 5, 5, 7, 3, 2) },
      ],
    });
    const path = dir.file('utf8.csr', pemEncode('CERTIFICATE REQUEST', der));
    const r = opensslStatus(['req', '-in', path, '-verify', '-noout', '-text', '-nameopt', 'utf8']);
    expect(r.status).toBe(0);
    const out = r.stdout.toString() + r.stderr;
    expect(out).toMatch(/verify OK/i);
    expect(out).toMatch(/TLS Web Client Authentication/);
    const asn1 = openssl(['asn1parse', '-in', path]).toString();
    expect(asn1).toMatch(/UTF8STRING\s*:/);
    expect(parseCsr(der, { canonical: true }).challengePassword).toBe('pässwort_1');
  });

  it("openssl's own DER CSR passes the canonical read", () => {
    const key = dir.file('o.key');
    const csr = dir.file('o.csr');
    openssl([
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-outform',
      'DER',
      '-subj',
      '/CN=o/O=Org+OU=Unit',
    ]);
    const parsed = parseCsr(
      new Uint8Array(openssl(['req', '-in', csr, '-inform', 'DER', '-outform', 'DER'])),
      {
        canonical: true,
      },
    );
    expect(parsed.verifySignature()).toBe(true);
    expect(parsed.subject.get('OU')).toBe('Unit');
  });

  it('IssuerAndSerialNumber carries the serial openssl reads from the certificate', async () => {
    const ca = await createSelfSignedCa({ subject: 'CN=Serial CA' });
    const caPath = dir.file('serial-ca.pem', ca.certificate.pem);
    const serial = openssl(['x509', '-in', caPath, '-noout', '-serial']).toString().trim().split('=')[1]!;
    const der = encodeIssuerAndSerial({
      issuer: ca.certificate.subject.der,
      serial: ca.certificate.serialNumber,
    });
    const parsed = openssl(['asn1parse', '-inform', 'DER'], der).toString();
    const integer = /prim: INTEGER\s*:([0-9A-F]+)/.exec(parsed)?.[1];
    expect(integer?.replace(/^0+/, '')).toBe(serial.replace(/^0+/, ''));
    expect(parsed).toMatch(/commonName\s*\n?.*:Serial CA/);
  });
});
