import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Certificate,
  createSelfSignedCa,
  generateKeyPair,
  issueCertificate,
  parseCertificate,
  verifyCertificateChain,
} from '../src/index';
import { openssl, opensslAvailable, opensslSignCsr, TempDir } from './support/openssl';
import { codeOf } from './support/error-code';

const ok = opensslAvailable('SHA-1 chain tests');

interface Made {
  key: string;
  cert: string;
  certificate: Certificate;
}

describe.skipIf(!ok)('verifyCertificateChain and SHA-1 signatures', () => {
  const dir = new TempDir();
  afterAll(() => dir.remove());

  const newKey = (type: 'rsa' | 'ec'): string => {
    const key = dir.unique('key');
    if (type === 'rsa')
      openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
    else openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    return key;
  };

  /** A self-signed CA made by `openssl req -x509` with the given digest. */
  const root = (cn: string, type: 'rsa' | 'ec', md: 'sha1' | 'sha256'): Made => {
    const key = newKey(type);
    const cert = dir.unique('pem');
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      `-${md}`,
      '-days',
      '30',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      cert,
    ]);
    return { key, cert, certificate: parseCertificate(readFileSync(cert, 'utf8')) };
  };

  /** A certificate signed by `issuer` with `openssl x509 -req` and the given digest. */
  const issue = (cn: string, type: 'rsa' | 'ec', issuer: Made, md: 'sha1' | 'sha256', ca: boolean): Made => {
    const key = newKey(type);
    const csr = dir.unique('csr');
    openssl(['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', csr]);
    const ext = dir.unique('cnf');
    dir.file(
      ext.slice(dir.path.length + 1),
      ca
        ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n'
        : 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
    );
    const cert = dir.unique('pem');
    opensslSignCsr(csr, { certPath: issuer.cert, keyPath: issuer.key }, cert, [
      `-${md}`,
      '-days',
      '20',
      '-extfile',
      ext,
    ]);
    return { key, cert, certificate: parseCertificate(readFileSync(cert, 'utf8')) };
  };

  it('accepts a SHA-256 chain under an anchor whose own self-signature is SHA-1 (Apple Root CA shape)', () => {
    const anchor = root('SHA-1 Root', 'rsa', 'sha1');
    expect(anchor.certificate.signatureAlgorithm).toBe('1.2.840.113549.1.1.5');
    const inter = issue('Intermediate', 'rsa', anchor, 'sha256', true);
    const leaf = issue('Leaf', 'ec', inter, 'sha256', false);
    const path = verifyCertificateChain(leaf.certificate, {
      trusted: [anchor.certificate],
      intermediates: [inter.certificate],
      requiredEku: 'clientAuth',
    });
    expect(path.map((c) => c.subject.get('CN'))).toEqual(['Leaf', 'Intermediate', 'SHA-1 Root']);
    // A SHA-1 self-signed certificate that is itself the anchor is trusted as given.
    expect(verifyCertificateChain(anchor.certificate, { trusted: [anchor.certificate] })).toHaveLength(1);
  });

  it('refuses an intermediate signed with sha1WithRSAEncryption unless SHA-1 is allowed', () => {
    const anchor = root('Root', 'rsa', 'sha256');
    const inter = issue('SHA-1 Intermediate', 'rsa', anchor, 'sha1', true);
    expect(inter.certificate.signatureAlgorithm).toBe('1.2.840.113549.1.1.5');
    const leaf = issue('Leaf', 'rsa', inter, 'sha256', false);
    const opts = { trusted: [anchor.certificate], intermediates: [inter.certificate] };
    expect(codeOf(() => verifyCertificateChain(leaf.certificate, opts))).toBe('CHAIN_INVALID');
    expect(() => verifyCertificateChain(leaf.certificate, opts)).toThrow(/SHA-1/);
    expect(verifyCertificateChain(leaf.certificate, { ...opts, allowSha1Signatures: true })).toHaveLength(3);
  });

  it('refuses a leaf signed with ecdsa-with-SHA1 unless SHA-1 is allowed', () => {
    const anchor = root('EC Root', 'ec', 'sha256');
    const leaf = issue('EC Leaf', 'ec', anchor, 'sha1', false);
    expect(leaf.certificate.signatureAlgorithm).toBe('1.2.840.10045.4.1');
    expect(codeOf(() => verifyCertificateChain(leaf.certificate, { trusted: [anchor.certificate] }))).toBe(
      'CHAIN_INVALID',
    );
    expect(
      verifyCertificateChain(leaf.certificate, { trusted: [anchor.certificate], allowSha1Signatures: true }),
    ).toHaveLength(2);
  });

  it('refuses SHA-1 leaves issued through the issuing API, with RSA and EC issuers', async () => {
    for (const type of ['rsa', 'ec'] as const) {
      const kp =
        type === 'rsa'
          ? await generateKeyPair({ type: 'rsa', bits: 2048 })
          : await generateKeyPair({ type: 'ec', curve: 'P-256' });
      const ca = await createSelfSignedCa({ subject: `CN=API ${type} CA`, key: kp });
      const leafKp = await generateKeyPair({ type: 'ec', curve: 'P-256' });
      const issued = (hash: 'sha1' | 'sha256') =>
        issueCertificate({
          subject: `CN=API ${type} leaf`,
          publicKey: leafKp.publicKey,
          issuer: ca.certificate,
          issuerKey: ca.privateKey,
          hash,
        });
      const sha1Leaf = await issued('sha1');
      expect(sha1Leaf.signatureAlgorithm).toBe(type === 'rsa' ? '1.2.840.113549.1.1.5' : '1.2.840.10045.4.1');
      expect(codeOf(() => verifyCertificateChain(sha1Leaf, { trusted: [ca.certificate] }))).toBe(
        'CHAIN_INVALID',
      );
      expect(verifyCertificateChain(await issued('sha256'), { trusted: [ca.certificate] })).toHaveLength(2);
    }
  });
});
