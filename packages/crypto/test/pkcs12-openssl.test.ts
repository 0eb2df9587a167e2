import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../src/certificate';
import { CryptoError } from '../src/errors';
import { exportPkcs12, importPkcs12 } from '../src/pkcs12';
import {
  LEGACY,
  makeIdentity,
  openssl,
  opensslAvailable,
  opensslStatus,
  TempDir,
  type TestIdentity,
  opensslSignCsr,
} from './support/openssl';

const ok = opensslAvailable('PKCS#12 interop with openssl pkcs12');

const spki = (k: KeyObject) => createPublicKey(k).export({ format: 'der', type: 'spki' });

describe.skipIf(!ok)('PKCS#12 interop with openssl', () => {
  let dir: TempDir;
  let ca: TestIdentity;
  let leaf: TestIdentity;
  let leafCertPath: string;
  beforeAll(() => {
    dir = new TempDir();
    ca = makeIdentity(dir, 'ca');
    leaf = makeIdentity(dir, 'leaf');
    // Re-issue the leaf from the CA so the file carries a real chain.
    const csr = dir.file('leaf.csr');
    openssl([
      'req',
      '-new',
      '-key',
      leaf.keyPath,
      '-subj',
      '/CN=push leaf/UID=com.apple.mgmt.External.test',
      '-out',
      csr,
    ]);
    leafCertPath = dir.file('leaf-issued.crt');
    opensslSignCsr(csr, ca, leafCertPath, ['-days', '5']);
  });
  afterAll(() => dir.remove());

  const variants: [string, string[]][] = [
    ['default (PBES2/AES-256, SHA-256 MAC)', []],
    ['-legacy (RC2-40 certificates, 3DES key, SHA-1 MAC)', ['-legacy', ...LEGACY]],
    ['3DES for both', ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']],
    [
      'AES-128 PBES2 with SHA-512 MAC',
      ['-certpbe', 'AES-128-CBC', '-keypbe', 'AES-128-CBC', '-macalg', 'sha512'],
    ],
    ['unencrypted certificates', ['-certpbe', 'NONE']],
    ['RC2-128 certificates', ['-certpbe', 'PBE-SHA1-RC2-128', ...LEGACY]],
  ];
  for (const [name, flags] of variants) {
    it(`imports openssl pkcs12 -export ${name}`, () => {
      const out = dir.unique('p12');
      openssl([
        'pkcs12',
        '-export',
        '-inkey',
        leaf.keyPath,
        '-in',
        leafCertPath,
        '-certfile',
        ca.certPath,
        '-passout',
        'pass:pässword 1',
        '-name',
        'Push',
        '-out',
        out,
        ...flags,
      ]);
      const p12 = readFileSync(out);
      const r = importPkcs12(p12, 'pässword 1');
      expect(r.privateKey && spki(r.privateKey)).toEqual(spki(leaf.privateKey));
      expect(r.certificate?.subjectUid).toBe('com.apple.mgmt.External.test');
      expect(r.chain.map((c) => c.der)).toEqual([parseCertificate(readFileSync(ca.certPath, 'utf8')).der]);
      let err: unknown;
      try {
        importPkcs12(p12, 'wrong');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CryptoError);
      expect((err as CryptoError).code).toBe('BAD_PASSWORD');
    });
  }

  it('imports a file without a MAC (-nomac), a key-only and a certificate-only file', () => {
    const out = dir.unique('p12');
    openssl([
      'pkcs12',
      '-export',
      '-inkey',
      leaf.keyPath,
      '-in',
      leafCertPath,
      '-passout',
      'pass:x',
      '-nomac',
      '-out',
      out,
    ]);
    expect(() => importPkcs12(readFileSync(out), 'x')).toThrow(/no integrity MAC/);
    const r = importPkcs12(readFileSync(out), 'x', { allowMissingMac: true });
    expect(r.privateKey).toBeDefined();
    expect(r.macVerified).toBe(false);
    const certOnly = dir.unique('p12');
    openssl(['pkcs12', '-export', '-nokeys', '-in', leafCertPath, '-passout', 'pass:x', '-out', certOnly]);
    const keyOnly = dir.unique('p12');
    openssl(['pkcs12', '-export', '-nocerts', '-inkey', leaf.keyPath, '-passout', 'pass:x', '-out', keyOnly]);
    const k = importPkcs12(readFileSync(keyOnly), 'x');
    expect(k.privateKey && spki(k.privateKey)).toEqual(spki(leaf.privateKey));
    expect(k.certificate).toBeUndefined();
    expect(k.chain).toEqual([]);
    const c = importPkcs12(readFileSync(certOnly), 'x');
    expect(c.privateKey).toBeUndefined();
    expect(c.certificate?.subjectUid).toBe('com.apple.mgmt.External.test');
  });

  for (const encryption of ['3des', 'aes-256'] as const) {
    it(`our ${encryption} export opens in openssl pkcs12 and round-trips`, () => {
      const certificate = parseCertificate(readFileSync(leafCertPath, 'utf8'));
      const chain = [parseCertificate(readFileSync(ca.certPath, 'utf8'))];
      const p12 = exportPkcs12({
        privateKey: leaf.privateKey,
        certificate,
        chain,
        password: 'sécret',
        encryption,
        friendlyName: 'Push',
      });
      const path = dir.unique('p12');
      dir.file(path.split('/').pop() as string, p12);
      const info = opensslStatus([
        'pkcs12',
        '-info',
        '-noout',
        '-in',
        path,
        '-passin',
        'pass:sécret',
        ...LEGACY,
      ]);
      expect(info.status).toBe(0);
      expect(info.stderr).toContain(encryption === '3des' ? 'MAC: sha1' : 'MAC: sha256');
      expect(info.stderr).toContain(encryption === '3des' ? 'pbeWithSHA1And3-KeyTripleDES-CBC' : 'PBES2');
      const pem = openssl(['pkcs12', '-nodes', '-in', path, '-passin', 'pass:sécret', ...LEGACY]).toString();
      expect(pem).toContain('friendlyName: Push');
      expect(pem).toContain('-----BEGIN PRIVATE KEY-----');
      expect(pem.match(/BEGIN CERTIFICATE/g)?.length).toBe(2);
      const wrong = opensslStatus([
        'pkcs12',
        '-info',
        '-noout',
        '-in',
        path,
        '-passin',
        'pass:nope',
        ...LEGACY,
      ]);
      expect(wrong.status).not.toBe(0);
      const back = importPkcs12(p12, 'sécret');
      expect(back.certificate?.der).toEqual(certificate.der);
      expect(back.chain.length).toBe(1);
      expect(back.privateKey && spki(back.privateKey)).toEqual(spki(leaf.privateKey));
    });
  }
});
