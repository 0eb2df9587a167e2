import { IssuerAndSerialNumber } from '@peculiar/asn1-cms';
import { AsnProp, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { Name } from '@peculiar/asn1-x509';
import { parseAsn1, serializeAsn1, toArrayBuffer } from './asn1';
import { CryptoError } from './errors';
import { encodeName, type NameInput } from './name';

/**
 * The small structures SCEP (RFC 8894) puts inside its messages, as typed functions, so that
 * `@mdmkit/scep` never builds or parses ASN.1 itself. Readers of what a peer sent require canonical
 * DER (what the RFC asks for) and throw `CryptoError` `INVALID_DER`, never anything else.
 */

/** `IssuerAndSubject ::= SEQUENCE { issuer Name, subject Name }` (RFC 8894 §3.3.3, CertPoll). */
class IssuerAndSubjectSchema {
  issuer = new Name();
  subject = new Name();
}
AsnType({ type: AsnTypeTypes.Sequence })(IssuerAndSubjectSchema);
AsnProp({ type: Name })(IssuerAndSubjectSchema.prototype, 'issuer');
AsnProp({ type: Name })(IssuerAndSubjectSchema.prototype, 'subject');

/** The largest IssuerAndSerialNumber / IssuerAndSubject a reader accepts: two names are far smaller. */
const MAX_STRUCTURE_BYTES = 64 * 1024;

/** An issuer name (its DER) and a certificate serial number: what GetCert and GetCRL name a certificate by. */
export interface IssuerAndSerial {
  /** DER of the issuer's Name, exactly as in the certificate. */
  issuer: Uint8Array;
  /** Serial number as lowercase hex without leading zero octets (as {@link Certificate.serialNumber}). */
  serial: string;
}

/** The issuer and requested subject of a CertPoll (GetCertInitial). */
export interface IssuerAndSubject {
  /** DER of the CA's Name. */
  issuer: Uint8Array;
  /** DER of the subject Name the pending request asked for. */
  subject: Uint8Array;
}

function nameDer(input: Uint8Array | NameInput): Uint8Array {
  return input instanceof Uint8Array ? input : encodeName(input);
}

function parseName(der: Uint8Array): Name {
  return parseAsn1(der, Name, 'INVALID_DER', 'Name', { canonical: true, maxBytes: MAX_STRUCTURE_BYTES });
}

function nameBytes(name: Name): Uint8Array {
  return serializeAsn1(name);
}

function serialBytes(hex: string): ArrayBuffer {
  const h = hex.toLowerCase();
  if (!/^[0-9a-f]{1,40}$/.test(h)) throw new CryptoError('INVALID_DER', 'serial must be 1–40 hex digits');
  const even = h.length % 2 ? `0${h}` : h;
  // A positive INTEGER: a leading 00 when the top bit is set.
  const bytes = Buffer.from((Number.parseInt(even.slice(0, 2), 16) & 0x80 ? '00' : '') + even, 'hex');
  return toArrayBuffer(bytes);
}

function serialHex(integer: ArrayBuffer): string {
  const c = new Uint8Array(integer);
  if (c.length === 0) throw new CryptoError('INVALID_DER', 'empty serialNumber');
  let i = 0;
  while (i < c.length - 1 && c[i] === 0) i++;
  return Buffer.from(c.buffer, c.byteOffset + i, c.byteLength - i).toString('hex');
}

/**
 * DER `IssuerAndSerialNumber` (RFC 5652 §10.2.4), the content of a SCEP GetCert request.
 *
 * @example
 * ```ts
 * const ca = await createSelfSignedCa({ subject: 'CN=Example CA' });
 * const der = encodeIssuerAndSerial({ issuer: ca.certificate.subject.der, serial: ca.certificate.serialNumber });
 * decodeIssuerAndSerial(der).serial === ca.certificate.serialNumber; // true
 * ```
 */
export function encodeIssuerAndSerial(value: IssuerAndSerial): Uint8Array {
  return serializeAsn1(
    new IssuerAndSerialNumber({ issuer: parseName(value.issuer), serialNumber: serialBytes(value.serial) }),
  );
}

/**
 * Reads a canonical DER `IssuerAndSerialNumber`; throws `CryptoError` `INVALID_DER` on anything else.
 *
 * @example
 * ```ts
 * const { issuer, serial } = decodeIssuerAndSerial(getCertContent);
 * ```
 */
export function decodeIssuerAndSerial(der: Uint8Array): IssuerAndSerial {
  const v = parseAsn1(der, IssuerAndSerialNumber, 'INVALID_DER', 'IssuerAndSerialNumber', {
    canonical: true,
    maxBytes: MAX_STRUCTURE_BYTES,
  });
  return { issuer: nameBytes(v.issuer), serial: serialHex(v.serialNumber) };
}

/**
 * DER `IssuerAndSubject` (RFC 8894 §3.3.3), the content of a SCEP CertPoll.
 *
 * @example
 * ```ts
 * const ca = await createSelfSignedCa({ subject: 'CN=Example CA' });
 * const der = encodeIssuerAndSubject({ issuer: ca.certificate.subject.der, subject: 'CN=device-1' });
 * ```
 */
export function encodeIssuerAndSubject(value: {
  issuer: Uint8Array | NameInput;
  subject: Uint8Array | NameInput;
}): Uint8Array {
  const s = new IssuerAndSubjectSchema();
  s.issuer = parseName(nameDer(value.issuer));
  s.subject = parseName(nameDer(value.subject));
  return serializeAsn1(s);
}

/**
 * Reads a canonical DER `IssuerAndSubject`; throws `CryptoError` `INVALID_DER` on anything else.
 *
 * @example
 * ```ts
 * const { issuer, subject } = decodeIssuerAndSubject(certPollContent);
 * ```
 */
export function decodeIssuerAndSubject(der: Uint8Array): IssuerAndSubject {
  const v = parseAsn1(der, IssuerAndSubjectSchema, 'INVALID_DER', 'IssuerAndSubject', {
    canonical: true,
    maxBytes: MAX_STRUCTURE_BYTES,
  });
  return { issuer: nameBytes(v.issuer), subject: nameBytes(v.subject) };
}
