// A DER writer for tests: it builds the inputs no schema library will produce (non-canonical,
// malformed or hostile encodings) and the expected bytes the tests compare against. The package
// writes its structures with the @peculiar/asn1-* schema classes.
import { CryptoError } from '../../src/errors';
import { isPrintableString, Tag } from '../../src/der';

/**
 * Concatenates byte arrays.
 *
 * @example
 * ```ts
 * concatBytes([Uint8Array.of(1), Uint8Array.of(2, 3)]); // [1, 2, 3]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * One TLV with the given identifier octet around the concatenated contents.
 *
 * @example
 * ```ts
 * derTlv(0x82, new TextEncoder().encode('example.com')); // dNSName [2]
 * ```
 */
export function derTlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const c of contents) len += c.length;
  let hdr: number[];
  if (len < 0x80) hdr = [tag, len];
  else if (len < 0x100) hdr = [tag, 0x81, len];
  else if (len < 0x10000) hdr = [tag, 0x82, len >>> 8, len & 0xff];
  else if (len < 0x1000000) hdr = [tag, 0x83, len >>> 16, (len >>> 8) & 0xff, len & 0xff];
  else hdr = [tag, 0x84, len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff];
  const out = new Uint8Array(hdr.length + len);
  out.set(hdr, 0);
  let o = hdr.length;
  for (const c of contents) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * SEQUENCE of already-encoded elements.
 *
 * @example
 * ```ts
 * derSequence([derOid('1.2.840.113549.1.1.11'), derNull()]); // an AlgorithmIdentifier
 * ```
 */
export function derSequence(items: readonly Uint8Array[]): Uint8Array {
  return derTlv(Tag.SEQUENCE, ...items);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * SET OF already-encoded elements, sorted as DER requires.
 *
 * @example
 * ```ts
 * derSet([attributeA, attributeB]); // SET OF, sorted
 * ```
 */
export function derSet(items: readonly Uint8Array[], tag: number = Tag.SET): Uint8Array {
  return derTlv(tag, ...[...items].sort(compareBytes));
}

/**
 * OBJECT IDENTIFIER from a dotted string.
 *
 * @example
 * ```ts
 * derOid('1.2.840.113635.100.6.3.1');
 * ```
 */
export function derOid(oid: string): Uint8Array {
  if (!/^[0-2](\.\d+)+$/.test(oid)) throw new CryptoError('INVALID_DER', `not an OID: ${oid.slice(0, 64)}`);
  const arcs = oid.split('.').map(Number);
  if (arcs.some((a) => !Number.isSafeInteger(a))) throw new CryptoError('INVALID_DER', 'OID arc too large');
  const out: number[] = [];
  const enc = (v: number) => {
    const tmp = [v & 0x7f];
    v = Math.floor(v / 128);
    while (v > 0) {
      tmp.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...tmp);
  };
  if (arcs[0]! < 2 && arcs[1]! >= 40) throw new CryptoError('INVALID_DER', `not an OID: ${oid}`);
  enc(arcs[0]! * 40 + arcs[1]!);
  for (let i = 2; i < arcs.length; i++) enc(arcs[i]!);
  return derTlv(Tag.OID, Uint8Array.from(out));
}

/**
 * INTEGER from a number, bigint, or unsigned big-endian bytes.
 *
 * @example
 * ```ts
 * derInteger(2); derInteger(0xffn); derInteger(serialBytes);
 * ```
 */
export function derInteger(v: number | bigint | Uint8Array): Uint8Array {
  if (v instanceof Uint8Array) {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    const b = v.subarray(i);
    if (b.length === 0) return derTlv(Tag.INTEGER, Uint8Array.of(0));
    return b[0]! & 0x80 ? derTlv(Tag.INTEGER, Uint8Array.of(0), b) : derTlv(Tag.INTEGER, b);
  }
  let n = BigInt(v);
  if (n < 0n) {
    // Two's complement, minimal length.
    let len = 1;
    while (-(1n << BigInt(len * 8 - 1)) > n) len++;
    n += 1n << BigInt(len * 8);
    const hex = n.toString(16).padStart(len * 2, 'f');
    return derTlv(Tag.INTEGER, Buffer.from(hex, 'hex'));
  }
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return derInteger(Buffer.from(hex, 'hex'));
}

/**
 * OCTET STRING.
 *
 * @example
 * ```ts
 * const nonce = derOctetString(crypto.randomBytes(16)); // SCEP senderNonce value
 * ```
 */
export function derOctetString(bytes: Uint8Array): Uint8Array {
  return derTlv(Tag.OCTET_STRING, bytes);
}

/**
 * NULL.
 *
 * @example
 * ```ts
 * derSequence([derOid('1.2.840.113549.1.1.1'), derNull()]);
 * ```
 */
export function derNull(): Uint8Array {
  return Uint8Array.of(Tag.NULL, 0);
}

/**
 * BOOLEAN.
 *
 * @example
 * ```ts
 * derBoolean(true);
 * ```
 */
export function derBoolean(v: boolean): Uint8Array {
  return Uint8Array.of(Tag.BOOLEAN, 1, v ? 0xff : 0);
}

const utf8enc = new TextEncoder();

/**
 * UTF8String.
 *
 * @example
 * ```ts
 * derUtf8String('device-1234');
 * ```
 */
export function derUtf8String(s: string): Uint8Array {
  return derTlv(Tag.UTF8_STRING, utf8enc.encode(s));
}

/**
 * PrintableString (SCEP messageType, pkiStatus, transactionID).
 *
 * @example
 * ```ts
 * const value = derPrintableString('19'); // PKCSReq
 * ```
 */
export function derPrintableString(s: string): Uint8Array {
  if (!isPrintableString(s)) throw new CryptoError('INVALID_DER', 'character not allowed in PrintableString');
  return derTlv(Tag.PRINTABLE_STRING, utf8enc.encode(s));
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/**
 * UTCTime for years 1950–2049, GeneralizedTime otherwise (as RFC 5280 requires).
 *
 * @example
 * ```ts
 * derTime(new Date()); // UTCTime
 * ```
 */
export function derTime(d: Date): Uint8Array {
  if (Number.isNaN(d.getTime())) throw new CryptoError('INVALID_DER', 'invalid date');
  const y = d.getUTCFullYear();
  const tail = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return derTlv(Tag.UTC_TIME, utf8enc.encode(`${pad(y % 100)}${tail}`));
  return derTlv(Tag.GENERALIZED_TIME, utf8enc.encode(`${pad(y, 4)}${tail}`));
}

/**
 * Context-specific constructed `[n]` wrapping encoded elements (EXPLICIT tagging).
 *
 * @example
 * ```ts
 * derExplicit(0, derInteger(2)); // [0] EXPLICIT version v3
 * ```
 */
export function derExplicit(n: number, ...inner: Uint8Array[]): Uint8Array {
  return derTlv(0xa0 | n, ...inner);
}
