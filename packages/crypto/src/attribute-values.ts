import { OctetString } from '@peculiar/asn1-schema';
import { AttributeValue, DirectoryString } from '@peculiar/asn1-x509';
import { parseAsn1, serializeAsn1, toArrayBuffer } from './asn1';
import { isPrintableString } from './der';
import { CryptoError } from './errors';
import type { CmsAttribute } from './signed-data';

/**
 * Single-valued attributes (CMS signed attributes, PKCS#9 attributes of a CSR) as typed values:
 * SCEP's messageType, transactionID, nonces, the challengePassword.
 */

/**
 * A CMS attribute with one PrintableString value (SCEP messageType, pkiStatus, failInfo, transactionID).
 *
 * @example
 * ```ts
 * const messageType = printableStringAttribute('2.16.840.1.113733.1.9.2', '19');
 * ```
 */
export function printableStringAttribute(oid: string, value: string): CmsAttribute {
  if (!isPrintableString(value)) throw new CryptoError('INVALID_DER', 'not a PrintableString value');
  return { oid, values: [printableStringValue(value)] };
}

/** DER PrintableString when `value` fits one, else UTF8String (a challengePassword's DirectoryString). @internal */
export function directoryStringValue(value: string): Uint8Array {
  return isPrintableString(value)
    ? printableStringValue(value)
    : serializeAsn1(new DirectoryString({ utf8String: value }));
}

function printableStringValue(value: string): Uint8Array {
  return serializeAsn1(new DirectoryString({ printableString: value }));
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
