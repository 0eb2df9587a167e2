import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import { CryptoError, type CryptoErrorCode } from './errors';

/**
 * The one door to `@peculiar/asn1-schema` in this package. The library's parser (asn1js underneath)
 * throws plain errors, and a hostile input can make it recurse deeply; both are turned into a
 * {@link CryptoError} here, after a byte limit has bounded the work, so nothing the library throws
 * leaves the package and no caller has to remember to wrap it.
 */

/** Bytes accepted by {@link parseAsn1} unless a caller asks for less. */
export const DEFAULT_ASN1_MAX_BYTES = 1024 * 1024;

/** Options of {@link parseAsn1}. */
export interface ParseAsn1Options {
  /** Largest input accepted; larger input is refused with `LIMIT_EXCEEDED` before parsing. */
  maxBytes?: number;
  /**
   * Require canonical DER: the parsed value must serialize back to exactly the input. This refuses
   * long-form or indefinite lengths, trailing bytes and any other BER liberty.
   */
  canonical?: boolean;
}

function view(bytes: ArrayBuffer | Uint8Array): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

/** Whether two byte arrays hold the same bytes (not secret: lengths and structure only). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/**
 * Parses `bytes` as the schema class `type`; any failure becomes `CryptoError(code)`.
 * @internal
 */
export function parseAsn1<T>(
  bytes: Uint8Array,
  type: new () => T,
  code: CryptoErrorCode,
  what: string,
  options: ParseAsn1Options = {},
): T {
  const max = options.maxBytes ?? DEFAULT_ASN1_MAX_BYTES;
  if (bytes.length > max) throw new CryptoError('LIMIT_EXCEEDED', `${what} is larger than ${max} bytes`);
  if (bytes.length === 0) throw new CryptoError(code, `${what} is empty`);
  let value: T;
  try {
    value = AsnParser.parse(bytes, type);
  } catch (e) {
    // RangeError included: deep nesting exhausts the library's recursion, which is caught here.
    throw new CryptoError(code, `malformed ${what}`, { cause: e });
  }
  if (options.canonical) {
    let again: Uint8Array;
    try {
      again = view(AsnConvert.serialize(value));
    } catch (e) {
      throw new CryptoError(code, `malformed ${what}`, { cause: e });
    }
    if (!sameBytes(again, bytes)) throw new CryptoError(code, `${what} is not in canonical DER`);
  }
  return value;
}

/**
 * Serializes a schema object to DER; a library failure (a value that does not fit its schema) is a
 * `CryptoError(code)`.
 * @internal
 */
export function serializeAsn1(value: object, code: CryptoErrorCode = 'INVALID_DER'): Uint8Array {
  try {
    return view(AsnConvert.serialize(value));
  } catch (e) {
    throw new CryptoError(code, 'value does not fit its ASN.1 schema', { cause: e });
  }
}

/** A copy of `bytes` as the ArrayBuffer the schema classes hold. @internal */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
