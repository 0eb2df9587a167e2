import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDer, type DerElement } from '../src/der';
import { derInteger, derNull, derOid, derSequence, derTime, derTlv } from './support/der-writer';
import { parseCertificate } from '../src/certificate';
import { decryptCms } from '../src/enveloped-decrypt';
import { createCertsOnlyCms, parseCertsOnlyCms, signCms } from '../src/signed-data';
import { encryptCms } from '../src/enveloped-encrypt';
import { openssl, opensslAvailable, TempDir } from './support/openssl';

const ok = opensslAvailable('EnvelopedData to a recipient whose issuer Name is not in canonical form');

/** An attribute of a Name with the string type given by `tag`. */
function atv(oid: string, tag: number, value: string): Uint8Array {
  return derSequence([derOid(oid), derTlv(tag, Buffer.from(value, 'latin1'))]);
}

// One RDN whose two values are NOT in DER SET order (O's encoding sorts after CN's), and a T61String:
// the form a re-encoding Name (sorting the SET, or choosing another string type) would change.
const nonCanonicalName = derSequence([
  derTlv(0x31, atv('2.5.4.10', 0x13, 'mdmkit'), atv('2.5.4.3', 0x14, 'T61 recipient')),
]);

function selfSigned(): { pem: string; keyPem: string; issuer: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sha256Rsa = derSequence([derOid('1.2.840.113549.1.1.11'), derNull()]);
  const now = Date.now();
  const tbs = derSequence([
    derTlv(0xa0, derInteger(2)),
    derInteger(BigInt(`0x${randomBytes(8).toString('hex')}`) | 1n),
    sha256Rsa,
    nonCanonicalName,
    derSequence([derTime(new Date(now - 60_000)), derTime(new Date(now + 86_400_000))]),
    nonCanonicalName,
    new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
  ]);
  const signature = sign('sha256', tbs, privateKey);
  const der = derSequence([tbs, sha256Rsa, derTlv(0x03, Buffer.concat([Buffer.from([0]), signature]))]);
  const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
  return {
    pem,
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    issuer: nonCanonicalName,
  };
}

/** The issuer Name inside the first KeyTransRecipientInfo of an EnvelopedData ContentInfo. */
function recipientIssuer(contentInfo: Uint8Array): Uint8Array {
  const envelopedData = (parseDer(contentInfo).children()[1] as DerElement).children()[0] as DerElement;
  const recipientInfos = envelopedData.children()[1] as DerElement;
  const ktri = recipientInfos.children()[0] as DerElement;
  const issuerAndSerial = ktri.children()[1] as DerElement;
  return (issuerAndSerial.children()[0] as DerElement).raw;
}

describe.skipIf(!ok)('EnvelopedData recipient named by a non-canonical issuer', () => {
  let dir: TempDir;
  beforeAll(() => {
    dir = new TempDir();
  });
  afterAll(() => dir.remove());

  it('carries the certificate issuer bytes unchanged; openssl and decryptCms both find the recipient', async () => {
    const id = selfSigned();
    const x = new X509Certificate(id.pem);
    const certificate = { der: new Uint8Array(x.raw), publicKey: x.publicKey };
    const certPath = dir.file('t61.crt', id.pem);
    const keyPath = dir.file('t61.key', id.keyPem);
    const plain = randomBytes(777);
    for (const cipher of ['aes-256-cbc', 'aes-128-gcm'] as const) {
      const der = await encryptCms({ content: plain, recipients: [certificate], cipher });
      expect(Buffer.from(recipientIssuer(der))).toEqual(Buffer.from(id.issuer));
      const inPath = dir.file(`t61-${cipher}.der`, der);
      const out = openssl([
        'cms',
        '-decrypt',
        '-binary',
        '-inform',
        'DER',
        '-in',
        inPath,
        '-recip',
        certPath,
        '-inkey',
        keyPath,
      ]);
      expect(out).toEqual(plain);
      const back = await decryptCms(der, {
        recipients: [{ certificate, privateKey: createPrivateKey(id.keyPem) }],
      });
      expect(Buffer.from(back.content)).toEqual(plain);
    }
  });

  it('SignedData carries the signer certificate and its issuer Name as they were; openssl verifies it', async () => {
    const id = selfSigned();
    const certificate = parseCertificate(id.pem);
    const certPath = dir.file('t61-signer.crt', id.pem);
    const content = randomBytes(300);
    const der = await signCms({ content, certificate, privateKey: createPrivateKey(id.keyPem) });
    const signedData = (parseDer(der).children()[1] as DerElement).children()[0] as DerElement;
    const [, , , certificates, signerInfos] = signedData.children() as DerElement[];
    expect(Buffer.from((certificates as DerElement).children()[0]!.raw)).toEqual(
      Buffer.from(certificate.der),
    );
    const sid = ((signerInfos as DerElement).children()[0] as DerElement).children()[1] as DerElement;
    expect(Buffer.from((sid.children()[0] as DerElement).raw)).toEqual(Buffer.from(id.issuer));
    const inPath = dir.file('t61-signed.der', der);
    const out = openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', inPath, '-CAfile', certPath]);
    expect(out).toEqual(content);
    const certsOnly = createCertsOnlyCms([certificate]);
    expect(Buffer.from(certsOnly).includes(Buffer.from(certificate.der))).toBe(true);
    expect(parseCertsOnlyCms(certsOnly).map((c) => c.fingerprintSha256)).toEqual([
      certificate.fingerprintSha256,
    ]);
  });
});
