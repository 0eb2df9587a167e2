import { CryptoError } from './errors';

/**
 * A minimal DER/BER reader. It covers exactly what certificates, CSRs and CMS
 * need (single-byte tags, definite lengths, and BER indefinite lengths when a caller opts in) and
 * bounds depth, element count and size so that hostile input costs little and fails with
 * `CryptoError('INVALID_DER' | 'LIMIT_EXCEEDED')`.
 */

/** Universal tags used in this package (identifier octets, including the constructed bit). */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Limits applied while reading. */
export interface DerLimits {
  /** Maximum nesting depth (default 48). */
  maxDepth: number;
  /** Maximum number of elements decoded from one input (default 200 000). */
  maxElements: number;
  /** Maximum input size in bytes (default 64 MiB). */
  maxLength: number;
  /** Accept BER indefinite lengths (CMS produced by streaming encoders). Default false. */
  allowIndefinite: boolean;
}

export const DEFAULT_DER_LIMITS: Readonly<DerLimits> = Object.freeze({
  maxDepth: 48,
  maxElements: 200_000,
  maxLength: 64 * 1024 * 1024,
  allowIndefinite: false,
});

interface Budget {
  readonly limits: DerLimits;
  elements: number;
}

function invalid(message: string): CryptoError {
  return new CryptoError('INVALID_DER', message);
}

/** One decoded TLV. Offsets index into `buf`; nothing is copied. */
export class DerElement {
  /** @internal */
  constructor(
    readonly buf: Uint8Array,
    /** Identifier octet (class, constructed bit and tag number < 31). */
    readonly tag: number,
    /** Offset of the identifier octet. */
    readonly start: number,
    readonly contentStart: number,
    /** End of the contents (before the end-of-contents octets of an indefinite length). */
    readonly contentEnd: number,
    /** Offset just past the element. */
    readonly end: number,
    readonly depth: number,
    private readonly budget: Budget,
  ) {}

  get constructed(): boolean {
    return (this.tag & 0x20) !== 0;
  }

  /** The contents octets (a view, not a copy). */
  get content(): Uint8Array {
    return this.buf.subarray(this.contentStart, this.contentEnd);
  }

  /** The whole encoding, header included (a view, not a copy). */
  get raw(): Uint8Array {
    return this.buf.subarray(this.start, this.end);
  }

  /** Whether this is a context-specific tag `[n]`. */
  isContext(n: number): boolean {
    return (this.tag & 0xdf) === (0x80 | n);
  }

  /** Decoded children of a constructed element. */
  children(): DerElement[] {
    if (!this.constructed) throw invalid(`element with tag 0x${hex2(this.tag)} is not constructed`);
    const out: DerElement[] = [];
    let off = this.contentStart;
    while (off < this.contentEnd) {
      const el = readElementAt(this.buf, off, this.contentEnd, this.depth + 1, this.budget);
      out.push(el);
      off = el.end;
    }
    return out;
  }

  /** Children with their expected count and tags checked, for fixed-shape structures. */
  iterate(): DerIterator {
    return new DerIterator(this.children(), this);
  }
}

/** Sequential access to the children of a SEQUENCE with checked tags. */
export class DerIterator {
  private i = 0;
  constructor(
    private readonly items: DerElement[],
    private readonly parent: DerElement,
  ) {}

  /** The next child; throws when it is missing or (when given) has another tag. */
  next(tag?: number, what = 'element'): DerElement {
    const el = this.items[this.i];
    if (!el) throw invalid(`missing ${what}`);
    if (tag !== undefined && el.tag !== tag) {
      throw invalid(`expected ${what} with tag 0x${hex2(tag)}, found 0x${hex2(el.tag)}`);
    }
    this.i++;
    return el;
  }

  /** The next child when its tag matches, else undefined (the position does not move). */
  optional(tag: number): DerElement | undefined {
    const el = this.items[this.i];
    if (el && el.tag === tag) {
      this.i++;
      return el;
    }
    return undefined;
  }

  /** The next child whatever its tag, or undefined at the end. */
  peek(): DerElement | undefined {
    return this.items[this.i];
  }

  get remaining(): number {
    return this.items.length - this.i;
  }

  /** Remaining children (consumes them). */
  rest(): DerElement[] {
    const r = this.items.slice(this.i);
    this.i = this.items.length;
    return r;
  }

  /** Throws when children are left over (unless `lenient`, for structures that may grow). */
  end(lenient = false): void {
    if (!lenient && this.i < this.items.length) {
      throw invalid(`unexpected trailing element in 0x${hex2(this.parent.tag)}`);
    }
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function readElementAt(
  buf: Uint8Array,
  off: number,
  limit: number,
  depth: number,
  budget: Budget,
): DerElement {
  const { limits } = budget;
  if (depth > limits.maxDepth) {
    throw new CryptoError('LIMIT_EXCEEDED', `DER nesting deeper than ${limits.maxDepth}`);
  }
  if (++budget.elements > limits.maxElements) {
    throw new CryptoError('LIMIT_EXCEEDED', `more than ${limits.maxElements} DER elements`);
  }
  const start = off;
  if (off >= limit) throw invalid('truncated: missing tag');
  const tag = buf[off++]!;
  if ((tag & 0x1f) === 0x1f) throw invalid('high tag numbers are not supported');
  if (off >= limit) throw invalid('truncated: missing length');
  const first = buf[off++]!;
  let len: number;
  if (first < 0x80) {
    len = first;
  } else if (first === 0x80) {
    if (!limits.allowIndefinite) throw invalid('indefinite length is not allowed in DER');
    if ((tag & 0x20) === 0) throw invalid('indefinite length on a primitive element');
    // Walk children until the end-of-contents marker to find where this element ends.
    const contentStart = off;
    for (;;) {
      if (off + 2 > limit) throw invalid('truncated: missing end-of-contents');
      if (buf[off] === 0 && buf[off + 1] === 0) break;
      const child = readElementAt(buf, off, limit, depth + 1, budget);
      off = child.end;
    }
    return new DerElement(buf, tag, start, contentStart, off, off + 2, depth, budget);
  } else {
    const n = first & 0x7f;
    if (n > 4) throw invalid('length field too long');
    if (off + n > limit) throw invalid('truncated: length field');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off++]!;
  }
  const contentStart = off;
  const end = contentStart + len;
  if (end > limit) throw invalid(`truncated: element needs ${len} bytes, ${limit - contentStart} left`);
  return new DerElement(buf, tag, start, contentStart, end, end, depth, budget);
}

/**
 * Decodes one element that must span all of `input` (no trailing bytes).
 *
 * @example
 * ```ts
 * const seq = parseDer(certificateDer);
 * const [tbs, sigAlg, sig] = seq.children();
 * ```
 */
export function parseDer(input: Uint8Array, limits?: Partial<DerLimits>): DerElement {
  const el = parseDerPrefix(input, limits);
  if (el.end !== input.length) throw invalid(`${input.length - el.end} trailing bytes after DER element`);
  return el;
}

/**
 * Decodes the first element of `input`, allowing trailing bytes (check `el.end`).
 *
 * @example
 * ```ts
 * const first = parseDerPrefix(concatenated);
 * const rest = concatenated.subarray(first.end);
 * ```
 */
export function parseDerPrefix(input: Uint8Array, limits?: Partial<DerLimits>): DerElement {
  if (!(input instanceof Uint8Array)) throw invalid('input is not a Uint8Array');
  const l: DerLimits = limits ? { ...DEFAULT_DER_LIMITS, ...limits } : DEFAULT_DER_LIMITS;
  if (input.length > l.maxLength) {
    throw new CryptoError('LIMIT_EXCEEDED', `DER input larger than ${l.maxLength} bytes`);
  }
  return readElementAt(input, 0, input.length, 0, { limits: l, elements: 0 });
}

// ---------------------------------------------------------------- value readers

function expectTag(el: DerElement, tag: number, what: string): void {
  if (el.tag !== tag) throw invalid(`expected ${what}, found tag 0x${hex2(el.tag)}`);
}

/**
 * Dotted OID string of an OBJECT IDENTIFIER.
 *
 * @example
 * ```ts
 * readOid(parseDer(derOid('2.5.29.37'))); // '2.5.29.37'
 * ```
 */
export function readOid(el: DerElement): string {
  expectTag(el, Tag.OID, 'OBJECT IDENTIFIER');
  return decodeOidContent(el.buf, el.contentStart, el.contentEnd);
}

/** Decodes OID contents octets. */
export function decodeOidContent(buf: Uint8Array, start: number, end: number): string {
  if (end <= start) throw invalid('empty OBJECT IDENTIFIER');
  if (end - start > 128) throw new CryptoError('LIMIT_EXCEEDED', 'OBJECT IDENTIFIER longer than 128 bytes');
  let out = '';
  let v = 0;
  let fresh = true;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (fresh && b === 0x80) throw invalid('non-minimal OBJECT IDENTIFIER arc');
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER) throw invalid('OBJECT IDENTIFIER arc too large');
    fresh = false;
    if ((b & 0x80) === 0) {
      if (out === '') out = v < 40 ? `0.${v}` : v < 80 ? `1.${v - 40}` : `2.${v - 80}`;
      else out += `.${v}`;
      v = 0;
      fresh = true;
    }
  }
  if (!fresh) throw invalid('truncated OBJECT IDENTIFIER');
  return out;
}

/**
 * INTEGER as a bigint (two's complement).
 *
 * @example
 * ```ts
 * readInteger(parseDer(derInteger(-129))); // -129n
 * ```
 */
export function readInteger(el: DerElement): bigint {
  expectTag(el, Tag.INTEGER, 'INTEGER');
  const c = el.content;
  if (c.length === 0) throw invalid('empty INTEGER');
  if (c.length > 1024) throw new CryptoError('LIMIT_EXCEEDED', 'INTEGER longer than 1024 bytes');
  let v = BigInt(`0x${Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('hex')}`);
  if (c[0]! & 0x80) v -= 1n << BigInt(c.length * 8);
  return v;
}

/**
 * Small non-negative INTEGER (versions, path lengths) as a number.
 *
 * @example
 * ```ts
 * const version = readSmallInt(signedData.children()[0]!);
 * ```
 */
export function readSmallInt(el: DerElement): number {
  const len = el.contentEnd - el.contentStart;
  if (el.tag === Tag.INTEGER && len >= 1 && len <= 4 && (el.buf[el.contentStart]! & 0x80) === 0) {
    // Versions and path lengths: skip the bigint detour.
    let n = 0;
    for (let i = el.contentStart; i < el.contentEnd; i++) n = n * 256 + el.buf[i]!;
    return n;
  }
  const v = readInteger(el);
  if (v < 0n || v > 0xffffffffn) throw invalid('INTEGER out of range');
  return Number(v);
}

/**
 * INTEGER contents as lowercase hex without leading 00 octets (certificate serial numbers).
 *
 * @example
 * ```ts
 * readIntegerHex(parseDer(derInteger(0xabcdn))); // 'abcd'
 * ```
 */
export function readIntegerHex(el: DerElement): string {
  expectTag(el, Tag.INTEGER, 'INTEGER');
  const c = el.content;
  if (c.length === 0) throw invalid('empty INTEGER');
  let i = 0;
  while (i < c.length - 1 && c[i] === 0) i++;
  return Buffer.from(c.buffer, c.byteOffset + i, c.byteLength - i).toString('hex');
}

/**
 * BIT STRING contents.
 *
 * @example
 * ```ts
 * const { bytes } = readBitString(parseDer(spki).children()[1]!);
 * ```
 */
export function readBitString(el: DerElement): { unusedBits: number; bytes: Uint8Array } {
  expectTag(el, Tag.BIT_STRING, 'BIT STRING');
  const c = el.content;
  if (c.length === 0) throw invalid('empty BIT STRING');
  const unusedBits = c[0]!;
  if (unusedBits > 7 || (c.length === 1 && unusedBits !== 0)) throw invalid('bad BIT STRING padding');
  return { unusedBits, bytes: c.subarray(1) };
}

/**
 * BOOLEAN value.
 *
 * @example
 * ```ts
 * readBoolean(parseDer(derBoolean(true))); // true
 * ```
 */
export function readBoolean(el: DerElement): boolean {
  expectTag(el, Tag.BOOLEAN, 'BOOLEAN');
  if (el.content.length !== 1) throw invalid('BOOLEAN must be one byte');
  return el.content[0] !== 0;
}

/**
 * OCTET STRING contents; a BER constructed OCTET STRING (chunks) is joined into one copy.
 * `tag` lets callers read an IMPLICIT-tagged octet string (e.g. `[0]`), primitive or constructed.
 *
 * @example
 * ```ts
 * const content = readOctets(eContentElement); // joins BER chunks
 * ```
 */
export function readOctets(el: DerElement, tag: number = Tag.OCTET_STRING): Uint8Array {
  const prim = tag & 0xdf;
  if ((el.tag & 0xdf) !== prim) throw invalid(`expected OCTET STRING, found tag 0x${hex2(el.tag)}`);
  if (!el.constructed) return el.content;
  const parts: Uint8Array[] = [];
  for (const c of el.children()) parts.push(readOctets(c, Tag.OCTET_STRING));
  return Uint8Array.from(Buffer.concat(parts));
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Any ASN.1 character string type as a JS string.
 *
 * @example
 * ```ts
 * readString(parseDer(derUtf8String('Grüße'))); // 'Grüße'
 * ```
 */
export function readString(el: DerElement): string {
  const c = el.content;
  switch (el.tag) {
    case Tag.UTF8_STRING:
      try {
        return utf8.decode(c);
      } catch (e) {
        throw new CryptoError('INVALID_DER', 'invalid UTF-8 in UTF8String', { cause: e });
      }
    case Tag.PRINTABLE_STRING:
    case Tag.IA5_STRING:
    case Tag.VISIBLE_STRING:
    case Tag.T61_STRING:
    case 0x12: // NumericString
      return latin1.decode(c);
    case Tag.BMP_STRING: {
      if (c.length % 2) throw invalid('odd-length BMPString');
      let s = '';
      for (let i = 0; i < c.length; i += 2) s += String.fromCharCode((c[i]! << 8) | c[i + 1]!);
      return s;
    }
    case Tag.UNIVERSAL_STRING: {
      if (c.length % 4) throw invalid('bad UniversalString length');
      let s = '';
      for (let i = 0; i < c.length; i += 4) {
        const cp = ((c[i]! << 24) | (c[i + 1]! << 16) | (c[i + 2]! << 8) | c[i + 3]!) >>> 0;
        if (cp > 0x10ffff) throw invalid('bad UniversalString code point');
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      throw invalid(`expected a character string, found tag 0x${hex2(el.tag)}`);
  }
}

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw invalid('bad digit in time');
    v = v * 10 + d;
  }
  return v;
}

/**
 * UTCTime or GeneralizedTime (UTC, "Z" form) as a Date.
 *
 * @example
 * ```ts
 * readTime(parseDer(derTime(new Date('2030-01-01T00:00:00Z')))).toISOString();
 * ```
 */
export function readTime(el: DerElement): Date {
  const s = latin1.decode(el.content);
  let year: number;
  let rest: number;
  if (el.tag === Tag.UTC_TIME) {
    if (!/^\d{10}(\d{2})?Z$/.test(s)) throw invalid('bad UTCTime');
    const yy = digits(s, 0, 2);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = 2;
  } else if (el.tag === Tag.GENERALIZED_TIME) {
    if (!/^\d{12}(\d{2})?(\.\d{1,9})?Z$/.test(s)) throw invalid('bad GeneralizedTime');
    year = digits(s, 0, 4);
    rest = 4;
  } else {
    throw invalid(`expected a time, found tag 0x${hex2(el.tag)}`);
  }
  const month = digits(s, rest, 2);
  const day = digits(s, rest + 2, 2);
  const hour = digits(s, rest + 4, 2);
  const minute = digits(s, rest + 6, 2);
  const hasSec = s.charCodeAt(rest + 8) !== 90 /* Z */ && s.charCodeAt(rest + 8) !== 46; /* . */
  const second = hasSec ? digits(s, rest + 8, 2) : 0;
  let ms = 0;
  const dot = s.indexOf('.');
  if (dot >= 0) ms = Math.floor(Number(`0${s.slice(dot, -1)}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    throw invalid('time field out of range');
  }
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
}

/**
 * Whether every character is allowed in a PrintableString.
 *
 * @example
 * ```ts
 * isPrintableString('US'); // true
 * isPrintableString('a_b'); // false
 * ```
 */
export function isPrintableString(s: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s);
}
