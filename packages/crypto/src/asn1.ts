import { type AsnAnyConverter, AsnConvert, AsnParser, AsnProp } from '@peculiar/asn1-schema';
import { type DerElement, parseDer } from './der';
import { CryptoError, type CryptoErrorCode } from './errors';

/**
 * The one door to `@peculiar/asn1-schema` in this package. The library's parser (asn1js underneath)
 * throws plain errors, and a hostile input can make it recurse deeply; both are turned into a
 * {@link CryptoError} here. Before the library sees an input, the package's own bounded TLV scanner
 * (the one the hot paths use) checks it against byte, depth and element limits — and, where asked,
 * that every length is in its shortest form — so hostile DER costs a linear scan, never the
 * library's much slower schema matching, and nothing the library throws leaves the package.
 */

/** Bytes accepted by {@link parseAsn1} unless a caller asks for less. */
export const DEFAULT_ASN1_MAX_BYTES = 1024 * 1024;

/** Options of {@link parseAsn1}. */
export interface ParseAsn1Options {
  /** Largest input accepted; larger input is refused with `LIMIT_EXCEEDED` before parsing. */
  maxBytes?: number;
  /**
   * Require DER lengths: definite, in their shortest form, no trailing bytes (what the scanner checks
   * before parsing, at a few microseconds where re-serializing to compare would cost hundreds).
   */
  canonical?: boolean;
}

/**
 * Reads every element of the tree, so that the scanner's depth and element limits cover all of it
 * (it reads a definite-length element's children only when asked), and tells whether every length
 * uses the shortest form DER allows.
 */
function scanTree(el: DerElement): boolean {
  const len = el.contentEnd - el.contentStart;
  const lengthOctets = len < 0x80 ? 0 : len < 0x100 ? 1 : len < 0x10000 ? 2 : len < 0x1000000 ? 3 : 4;
  let shortest = el.contentStart - el.start === 2 + lengthOctets;
  if (el.constructed) for (const child of el.children()) shortest = scanTree(child) && shortest;
  return shortest;
}

function view(bytes: ArrayBuffer | Uint8Array): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
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
  let shortest: boolean;
  try {
    // Refuses trailing bytes, too deep nesting and too many elements; indefinite lengths unless lenient.
    shortest = scanTree(parseDer(bytes, { allowIndefinite: !options.canonical, maxLength: max }));
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'LIMIT_EXCEEDED') throw e;
    throw new CryptoError(code, `malformed ${what}`, { cause: e });
  }
  if (options.canonical && !shortest) throw new CryptoError(code, `${what} is not in canonical DER`);
  try {
    // RangeError included: should nesting get past the scanner, the library's recursion is caught here.
    return AsnParser.parse(bytes, type);
  } catch (e) {
    throw new CryptoError(code, `malformed ${what}`, { cause: e });
  }
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

type FieldOptions = Parameters<typeof AsnProp>[0];

/**
 * Declares the ASN.1 fields of a schema class, in encoding order: `@AsnProp` applied as plain calls,
 * so the package needs no decorator compiler setting.
 * @internal
 */
export function fields<T>(type: new () => T, list: [keyof T & string, FieldOptions][]): void {
  for (const [name, options] of list) AsnProp(options)(type.prototype as object, name);
}

/**
 * Encoded bytes in the place of an element of the library's ASN.1 tree: when the tree is written,
 * each element appends its encoding to the writer its parent passes (or returns it when written on
 * its own), and this one appends the bytes as they are. The library's own way to place encoded bytes
 * (`AsnAnyConverter`) parses them into a whole tree first, which for a certificate costs a full parse
 * and tens of kilobytes of garbage per reply.
 */
class RawElement {
  constructor(private readonly der: Uint8Array) {}
  toBER(sizeOnly?: boolean, writer?: { write(buf: ArrayBuffer): void }): ArrayBuffer {
    const out = sizeOnly ? new ArrayBuffer(this.der.length) : toArrayBuffer(this.der);
    if (!writer) return out;
    writer.write(out);
    return new ArrayBuffer(0);
  }
}

/**
 * Converter for an `ANY` field whose value is an encoded element (a Uint8Array): written as its bytes.
 * Fields that use it are only written, never parsed. @internal
 */
export const encodedAnyConverter = {
  toASN: (value: Uint8Array) => new RawElement(value) as unknown as ReturnType<typeof AsnAnyConverter.toASN>,
  fromASN: (): never => {
    throw new CryptoError('INVALID_DER', 'a pre-encoded element is only written, never parsed');
  },
};

/**
 * An element that is already encoded, placed into a schema object where the schema expects a
 * structure (the serializer asks it for its ASN.1 form, and the bytes come out as they went in). Used
 * for a certificate's issuer Name and whole certificates: re-encoding them from parsed values could
 * change a name that is not in canonical form, and then a peer would no longer match it.
 * @internal
 */
export class PreEncoded {
  constructor(readonly der: Uint8Array) {}
  toASN(): ReturnType<typeof AsnAnyConverter.toASN> {
    return new RawElement(this.der) as unknown as ReturnType<typeof AsnAnyConverter.toASN>;
  }
  fromASN(): this {
    throw new CryptoError('INVALID_DER', 'a pre-encoded element is only written, never parsed');
  }
  toSchema(): never {
    throw new CryptoError('INVALID_DER', 'a pre-encoded element is only written, never parsed');
  }
}

/** `value` as the schema type `T` expects: the serializer uses its encoding as it is. @internal */
export function preEncoded<T>(der: Uint8Array): T {
  return new PreEncoded(der) as unknown as T;
}
