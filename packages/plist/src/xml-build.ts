import { ByteWriter } from './byte-writer';
import { PlistParseError } from './errors';
import { type PlistDict, PlistReal, PlistUid, type PlistValue, isIntegral } from './value';

/** Options of {@link buildXml}. */
export interface BuildXmlOptions {
  /**
   * One level of indentation (spaces and tabs only). Default `'\t'` (as Apple's tools write); `''`
   * writes no newlines at all.
   */
  indent?: string;
  /** Write dictionary keys in code-unit order instead of insertion order. Default false. */
  sortKeys?: boolean;
}

const HEADER =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
  '<plist version="1.0">\n';

// Characters that must be escaped in text. CR is written as a reference because XML readers turn a
// raw CR (and CR LF) into LF; DEL is legal either way and written as a reference so it stays visible.
const NEEDS_ESCAPE = /[&<>\r\x7f]/;
const ESCAPE_ALL = /[&<>\r\x7f]/g;
// What XML 1.0 cannot carry at all, neither raw nor as a character reference: C0 controls other than
// TAB, LF and CR, U+FFFE, U+FFFF, and surrogates that are not part of a pair.
const NOT_XML_CHAR =
  /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Thrown inside the writer when a string cannot be written; containers add their key or index on
 * the way out, and {@link write} turns it into a {@link PlistParseError} with the whole key path.
 */
class Unrepresentable {
  readonly keyPath: (string | number)[] = [];
  constructor(readonly message: string) {}
}

function escapeChar(c: string): string {
  switch (c) {
    case '&':
      return '&amp;';
    case '<':
      return '&lt;';
    case '>':
      return '&gt;';
    default:
      return `&#${c.charCodeAt(0)};`;
  }
}

const MAX_BUILD_DEPTH = 2048;

/**
 * Writes a value as an XML property list (UTF-8 text with XML declaration and DOCTYPE), in a form
 * Apple's tools and python's `plistlib` read.
 *
 * Numbers follow one rule: a safe integer other than `-0` is an `<integer>`, any other number (and a
 * {@link PlistReal}) a `<real>`; a `bigint` is an `<integer>` (−2^63 … 2^64−1). Dates are written to
 * the second (milliseconds are dropped, rounding down). A {@link PlistUid} becomes a `CF$UID` dict.
 * Dictionary members whose value is `undefined` are left out, as `JSON.stringify` does.
 *
 * Strings (and keys) must consist of characters XML 1.0 can carry: every character except the C0
 * controls other than TAB, LF and CR, U+FFFE, U+FFFF and unpaired surrogates. Neither python's
 * `plistlib` nor any other conforming XML reader accepts those, raw or as character references, so they
 * are refused rather than changed; {@link buildBinary} writes them as they are. CR is written as
 * `&#13;`, which XML readers keep (a raw CR would become LF).
 *
 * @throws {@link PlistParseError} `INVALID_VALUE` for values no plist can hold (`null`, `undefined`,
 *   functions, invalid dates, out-of-range bigints), `CYCLE` for a container that contains itself,
 *   `NOT_REPRESENTABLE_IN_XML` (with the `keyPath`) for a string XML 1.0 cannot carry.
 * @example
 * ```ts
 * import { buildXml } from '@mdmkit/plist';
 * const xml = buildXml({ Command: { RequestType: 'DeviceInformation' }, CommandUUID: 'abc' }, { sortKeys: true });
 * ```
 */
export function buildXml(value: PlistValue, options?: BuildXmlOptions): string {
  const w = write(value, options);
  return w.out.text(!w.nonAscii);
}

/**
 * {@link buildXml}, but returns the UTF-8 bytes directly (what an HTTP response body needs), without
 * making a string first.
 *
 * @example
 * ```ts
 * import { buildXmlBytes } from '@mdmkit/plist';
 * const body = buildXmlBytes({ Status: 'Acknowledged' });
 * // new Response(body, { headers: { 'content-type': 'application/xml' } })
 * ```
 */
export function buildXmlBytes(value: PlistValue, options?: BuildXmlOptions): Uint8Array {
  return write(value, options).out.bytes();
}

function write(value: PlistValue, options: BuildXmlOptions | undefined): XmlWriter {
  const w = new XmlWriter(options?.indent ?? '\t', options?.sortKeys === true);
  w.out.ascii(HEADER);
  try {
    w.value(value, 0);
  } catch (e) {
    if (e instanceof Unrepresentable) {
      throw new PlistParseError('NOT_REPRESENTABLE_IN_XML', e.message, { keyPath: e.keyPath });
    }
    throw e;
  }
  w.out.ascii('</plist>\n');
  return w;
}

class XmlWriter {
  readonly out = new ByteWriter();
  nonAscii = false;
  private readonly pads: string[] = [''];
  private readonly nl: string;
  private readonly path: (PlistValue[] | PlistDict)[] = [];

  constructor(
    private readonly indent: string,
    private readonly sortKeys: boolean,
  ) {
    this.nl = indent === '' ? '' : '\n';
    if (/[^\t ]/.test(indent)) throw invalid('indent may only hold spaces and tabs');
  }

  private pad(level: number): string {
    const pads = this.pads;
    while (pads.length <= level) pads.push(pads[pads.length - 1] + this.indent);
    return pads[level]!;
  }

  /** Escaped character data; the common all-ASCII, nothing-to-escape case is written in one pass. */
  private text(s: string): void {
    const out = this.out;
    const n = s.length;
    out.ensure(n);
    const b = out.buf;
    let p = out.pos;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x3f ? c < 0x7f : c >= 0x20 && c !== 0x26 && c !== 0x3c && c !== 0x3e) b[p++] = c;
      else if (c === 0x0a || c === 0x09) b[p++] = c;
      else break;
    }
    out.pos = p;
    if (i === n) return;
    const rest = s.slice(i);
    const bad = NOT_XML_CHAR.exec(rest);
    if (bad) {
      const code = bad[0]
        .charCodeAt(bad[0].length - 1)
        .toString(16)
        .toUpperCase()
        .padStart(4, '0');
      throw new Unrepresentable(
        `U+${code} at index ${i + bad.index} cannot be written in XML 1.0; use the binary format`,
      );
    }
    if (!this.nonAscii && /[^\x00-\x7f]/.test(rest)) this.nonAscii = true;
    out.utf8(NEEDS_ESCAPE.test(rest) ? rest.replace(ESCAPE_ALL, escapeChar) : rest);
  }

  value(v: PlistValue, level: number): void {
    const out = this.out;
    const pad = this.pad(level);
    switch (typeof v) {
      case 'string':
        out.ascii(pad);
        out.ascii('<string>');
        this.text(v);
        out.ascii('</string>');
        out.ascii(this.nl);
        return;
      case 'number':
        out.ascii(pad);
        if (isIntegral(v)) {
          out.ascii('<integer>');
          out.ascii(String(v));
          out.ascii('</integer>');
        } else {
          out.ascii('<real>');
          out.ascii(formatReal(v));
          out.ascii('</real>');
        }
        out.ascii(this.nl);
        return;
      case 'boolean':
        out.ascii(pad);
        out.ascii(v ? '<true/>' : '<false/>');
        out.ascii(this.nl);
        return;
      case 'bigint':
        checkBigInt(v);
        out.ascii(pad);
        out.ascii('<integer>');
        out.ascii(v.toString());
        out.ascii('</integer>');
        out.ascii(this.nl);
        return;
      case 'object':
        break;
      default:
        throw invalid(`cannot write a ${typeof v}`);
    }
    if (v === null) throw invalid('cannot write null');
    if (Array.isArray(v)) {
      out.ascii(pad);
      if (v.length === 0) {
        out.ascii('<array/>');
        out.ascii(this.nl);
        return;
      }
      this.enter(v);
      out.ascii('<array>');
      out.ascii(this.nl);
      for (let i = 0; i < v.length; i++) {
        const item = v[i];
        if (item === undefined) throw invalid(`array hole or undefined at index ${i}`);
        try {
          this.value(item, level + 1);
        } catch (e) {
          if (e instanceof Unrepresentable) e.keyPath.unshift(i);
          throw e;
        }
      }
      out.ascii(pad);
      out.ascii('</array>');
      out.ascii(this.nl);
      this.path.pop();
      return;
    }
    if (v instanceof Uint8Array) {
      out.ascii(pad);
      out.ascii('<data>');
      out.ascii(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));
      out.ascii('</data>');
      out.ascii(this.nl);
      return;
    }
    if (v instanceof Date) {
      out.ascii(pad);
      out.ascii('<date>');
      out.ascii(formatDate(v));
      out.ascii('</date>');
      out.ascii(this.nl);
      return;
    }
    if (v instanceof PlistReal) {
      out.ascii(pad);
      out.ascii('<real>');
      out.ascii(formatReal(v.value));
      out.ascii('</real>');
      out.ascii(this.nl);
      return;
    }
    if (v instanceof PlistUid) {
      const p1 = this.pad(level + 1);
      out.ascii(`${pad}<dict>${this.nl}${p1}<key>CF$UID</key>${this.nl}${p1}<integer>${v.value}</integer>`);
      out.ascii(`${this.nl}${pad}</dict>${this.nl}`);
      return;
    }
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Map || v instanceof Set) {
      throw invalid(
        `cannot write a ${Object.prototype.toString.call(v)}; use Uint8Array for data and objects for dicts`,
      );
    }
    const dict = v as PlistDict;
    let keys = Object.keys(dict);
    out.ascii(pad);
    if (keys.length === 0) {
      out.ascii('<dict/>');
      out.ascii(this.nl);
      return;
    }
    if (this.sortKeys) keys = keys.sort();
    this.enter(dict);
    out.ascii('<dict>');
    out.ascii(this.nl);
    const p1 = this.pad(level + 1);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const item = dict[k];
      if (item === undefined) continue;
      try {
        out.ascii(p1);
        out.ascii('<key>');
        this.text(k);
        out.ascii('</key>');
        out.ascii(this.nl);
        this.value(item, level + 1);
      } catch (e) {
        if (e instanceof Unrepresentable) e.keyPath.unshift(k);
        throw e;
      }
    }
    out.ascii(pad);
    out.ascii('</dict>');
    out.ascii(this.nl);
    this.path.pop();
  }

  private enter(c: PlistValue[] | PlistDict): void {
    if (this.path.length >= MAX_BUILD_DEPTH) {
      if (this.path.includes(c)) throw new PlistParseError('CYCLE', 'a container contains itself');
      throw invalid(`nesting deeper than ${MAX_BUILD_DEPTH}`);
    }
    // Cycles show up as unbounded depth; checking only deep paths keeps the common case free.
    if (this.path.length >= 64 && this.path.includes(c)) {
      throw new PlistParseError('CYCLE', 'a container contains itself');
    }
    this.path.push(c);
  }
}

function invalid(message: string): PlistParseError {
  return new PlistParseError('INVALID_VALUE', message);
}

const MIN_INT = -(2n ** 63n);
const MAX_INT = 2n ** 64n - 1n;

export function checkBigInt(v: bigint): void {
  if (v < MIN_INT || v > MAX_INT) throw invalid(`integer ${v} outside -2^63 … 2^64-1`);
}

/** Shortest text that reads back to the same double; special values in the spelling Apple writes. */
export function formatReal(n: number): string {
  if (Number.isFinite(n)) return Object.is(n, -0) ? '-0.0' : String(n);
  if (Number.isNaN(n)) return 'nan';
  return n > 0 ? '+infinity' : '-infinity';
}

export function formatDate(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) throw invalid('invalid Date');
  const s = new Date(Math.floor(t / 1000) * 1000).toISOString();
  if (s.length !== 24) throw invalid(`date ${s} outside years 0000-9999`);
  return `${s.slice(0, 19)}Z`;
}
