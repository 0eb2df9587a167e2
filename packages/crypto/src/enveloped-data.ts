// Pieces shared by CMS EnvelopedData encryption and decryption: algorithm identifiers, content cipher
// parameters and the recipient identifiers of a certificate.
import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { type DerElement, parseDer, Tag } from './der';
import { CryptoError } from './errors';

/** Content-encryption algorithms of CMS EnvelopedData / AuthEnvelopedData. */
export type ContentCipher =
  | 'aes-128-cbc'
  | 'aes-192-cbc'
  | 'aes-256-cbc'
  | 'aes-128-gcm'
  | 'aes-192-gcm'
  | 'aes-256-gcm'
  | 'des-ede3-cbc'
  | 'des-cbc';

/** Key transport algorithms for RSA recipients. */
export type KeyTransport = 'rsa-pkcs1' | 'rsa-oaep';

/** The certificate fields recipient handling needs; `Certificate` from `parseCertificate` has them. */
export interface RecipientCertificate {
  /** The certificate's DER encoding. */
  readonly der: Uint8Array;
  /** The subject public key (used when encrypting). */
  readonly publicKey?: KeyObject;
}

export const OID = {
  data: '1.2.840.113549.1.7.1',
  envelopedData: '1.2.840.113549.1.7.3',
  authEnvelopedData: '1.2.840.113549.1.9.16.1.23',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  pSpecified: '1.2.840.113549.1.1.9',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

export const HASH_OIDS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export const HASH_TO_OID: Record<string, string> = Object.fromEntries(
  Object.entries(HASH_OIDS).map(([oid, name]) => [name, oid]),
);

/** How a content cipher is identified and driven. */
export interface CipherSpec {
  readonly name: ContentCipher;
  readonly oid: string;
  readonly keyLength: number;
  /** IV length for CBC, nonce length for GCM. */
  readonly ivLength: number;
  readonly mode: 'cbc' | 'gcm';
  /** Name for node:crypto, or undefined when this package implements it (DES). */
  readonly nodeName?: string;
}

const SPECS: CipherSpec[] = [
  {
    name: 'aes-128-cbc',
    oid: '2.16.840.1.101.3.4.1.2',
    keyLength: 16,
    ivLength: 16,
    mode: 'cbc',
    nodeName: 'aes-128-cbc',
  },
  {
    name: 'aes-192-cbc',
    oid: '2.16.840.1.101.3.4.1.22',
    keyLength: 24,
    ivLength: 16,
    mode: 'cbc',
    nodeName: 'aes-192-cbc',
  },
  {
    name: 'aes-256-cbc',
    oid: '2.16.840.1.101.3.4.1.42',
    keyLength: 32,
    ivLength: 16,
    mode: 'cbc',
    nodeName: 'aes-256-cbc',
  },
  {
    name: 'aes-128-gcm',
    oid: '2.16.840.1.101.3.4.1.6',
    keyLength: 16,
    ivLength: 12,
    mode: 'gcm',
    nodeName: 'aes-128-gcm',
  },
  {
    name: 'aes-192-gcm',
    oid: '2.16.840.1.101.3.4.1.26',
    keyLength: 24,
    ivLength: 12,
    mode: 'gcm',
    nodeName: 'aes-192-gcm',
  },
  {
    name: 'aes-256-gcm',
    oid: '2.16.840.1.101.3.4.1.46',
    keyLength: 32,
    ivLength: 12,
    mode: 'gcm',
    nodeName: 'aes-256-gcm',
  },
  {
    name: 'des-ede3-cbc',
    oid: '1.2.840.113549.3.7',
    keyLength: 24,
    ivLength: 8,
    mode: 'cbc',
    nodeName: 'des-ede3-cbc',
  },
  { name: 'des-cbc', oid: '1.3.14.3.2.7', keyLength: 8, ivLength: 8, mode: 'cbc' },
];

export const CIPHER_BY_OID = new Map(SPECS.map((s) => [s.oid, s]));
export const CIPHER_BY_NAME = new Map(SPECS.map((s) => [s.name, s]));

/** Identifiers a CMS RecipientIdentifier can name a certificate by. */
export interface CertificateIds {
  /** DER of the issuer Name. */
  issuer: Buffer;
  /** Serial number contents without leading zero octets. */
  serial: Buffer;
  /** The serialNumber INTEGER exactly as encoded. */
  serialTlv: Buffer;
  /** subjectKeyIdentifier extension value, when present. */
  ski?: Buffer;
  /** SHA-1 of the subjectPublicKey bits (RFC 5280 method 1), for certificates without the extension. */
  skiFromKey: Buffer;
  /** Lazily parsed public key, for certificates given without one. */
  publicKey?: KeyObject;
}

const idsCache = new WeakMap<object, CertificateIds>();

/** Strips leading zero octets so that serials compare by value. */
export function trimZeros(b: Uint8Array): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return Buffer.from(b.buffer, b.byteOffset + i, b.byteLength - i);
}

/** Issuer, serial and SKI of a certificate, parsed once per certificate object. */
export function certificateIds(cert: RecipientCertificate): CertificateIds {
  let ids = idsCache.get(cert);
  if (ids !== undefined) return ids;
  try {
    const tbs = parseDer(cert.der).iterate().next(Tag.SEQUENCE, 'tbsCertificate').iterate();
    if (tbs.peek()?.isContext(0)) tbs.next();
    const serial = tbs.next(Tag.INTEGER, 'serialNumber');
    tbs.next(Tag.SEQUENCE, 'signature');
    const issuer = tbs.next(Tag.SEQUENCE, 'issuer');
    tbs.next(Tag.SEQUENCE, 'validity');
    tbs.next(Tag.SEQUENCE, 'subject');
    const spki = tbs.next(Tag.SEQUENCE, 'subjectPublicKeyInfo').iterate();
    spki.next(Tag.SEQUENCE, 'algorithm');
    const keyBits = spki.next(Tag.BIT_STRING, 'subjectPublicKey').content.subarray(1);
    ids = {
      issuer: Buffer.from(issuer.raw),
      serial: Buffer.from(trimZeros(serial.content)),
      serialTlv: Buffer.from(serial.raw),
      skiFromKey: createHash('sha1').update(keyBits).digest(),
    };
    for (let el = tbs.peek(); el !== undefined; tbs.next(), el = tbs.peek()) {
      if (el.tag === 0xa3) ids.ski = findSki(el);
    }
  } catch (e) {
    throw new CryptoError('INVALID_CERTIFICATE', 'recipient certificate cannot be parsed', { cause: e });
  }
  idsCache.set(cert, ids);
  return ids;
}

function findSki(extensions: DerElement): Buffer | undefined {
  const [seq] = extensions.children();
  for (const ext of seq?.children() ?? []) {
    const parts = ext.children();
    const oid = parts[0];
    const value = parts[parts.length - 1];
    if (oid?.tag !== Tag.OID || value?.tag !== Tag.OCTET_STRING) continue;
    if (Buffer.from(oid.content).equals(SKI_OID_CONTENT)) {
      const inner = parseDer(value.content);
      if (inner.tag === Tag.OCTET_STRING) return Buffer.from(inner.content);
    }
  }
  return undefined;
}

const SKI_OID_CONTENT = Buffer.from([0x55, 0x1d, 0x0e]);

/** The recipient's RSA public key (from the certificate object, or parsed from its DER). */
export function recipientPublicKey(cert: RecipientCertificate): KeyObject {
  if (cert.publicKey) return cert.publicKey;
  const ids = certificateIds(cert);
  if (!ids.publicKey) {
    try {
      ids.publicKey = new X509Certificate(cert.der).publicKey;
    } catch (e) {
      throw new CryptoError('INVALID_CERTIFICATE', 'recipient certificate cannot be parsed', { cause: e });
    }
  }
  return ids.publicKey;
}
