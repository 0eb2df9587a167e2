import { IssuerAndSerialNumber } from '@peculiar/asn1-cms';
import { AsnProp, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { AttributeValue, DirectoryString, Name } from '@peculiar/asn1-x509';
import { parseAsn1, serializeAsn1, toArrayBuffer } from './asn1';
import { CryptoError } from './errors';
import { encodeName, type NameInput } from './name';
import type { CmsAttribute } from './signed-data';

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

/**
 * A CMS attribute with one PrintableString value (SCEP messageType, pkiStatus, failInfo, transactionID).
 *
 * @example
 * ```ts
 * const messageType = printableStringAttribute('2.16.840.1.113733.1.9.2', '19');
 * ```
 */
export function printableStringAttribute(oid: string, value: string): CmsAttribute {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value))
    throw new CryptoError('INVALID_DER', 'not a PrintableString value');
  return { oid, values: [serializeAsn1(new DirectoryString({ printableString: value }))] };
}

/**
 * A CMS attribute with one OCTET STRING value (SCEP senderNonce, recipientNonce).
 *
 * @example
 * ```ts
 * const nonce = octetStringAttribute('2.16.840.1.113733.1.9.5', crypto.getRandomValues(new Uint8Array(16)));
 * ```
 */
export function octetStringAttribute(oid: string, value: Uint8Array): CmsAttribute {
  return { oid, values: [serializeAsn1(new OctetString(toArrayBuffer(value)))] };
}

/** The largest attribute value the readers below accept: SCEP's values are a few dozen bytes. */
const MAX_ATTRIBUTE_VALUE_BYTES = 16 * 1024;

/**
 * Reads one attribute value (a full TLV, as in {@link CmsAttribute.values}) that is a character
 * string of any directory type (PrintableString, UTF8String, IA5String, …); throws `INVALID_DER`.
 *
 * @example
 * ```ts
 * const messageType = readStringAttributeValue(attribute.values[0]!); // "19"
 * ```
 */
export function readStringAttributeValue(der: Uint8Array): string {
  const v = parseAsn1(der, AttributeValue, 'INVALID_DER', 'attribute value', {
    maxBytes: MAX_ATTRIBUTE_VALUE_BYTES,
  });
  if (v.anyValue) throw new CryptoError('INVALID_DER', 'attribute value is not a character string');
  return v.toString();
}

/**
 * Reads one attribute value that is an OCTET STRING in DER (signed attributes are DER-encoded, RFC 5652
 * §5.4, so a BER chunked form is refused rather than guessed at); throws `INVALID_DER`.
 *
 * @example
 * ```ts
 * const senderNonce = readOctetStringAttributeValue(attribute.values[0]!);
 * ```
 */
export function readOctetStringAttributeValue(der: Uint8Array): Uint8Array {
  const v = parseAsn1(der, OctetString, 'INVALID_DER', 'attribute value', {
    canonical: true,
    maxBytes: MAX_ATTRIBUTE_VALUE_BYTES,
  });
  return new Uint8Array(v.buffer.slice(0));
}
