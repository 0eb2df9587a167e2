import { decodeBase64 } from './base64';
import { latin1Slice } from './byte-writer';
import { cachedAsciiView, MAX_CACHED } from './string-cache';
import { PlistParseError, type PlistErrorCode } from './errors';
import { type ParseOptions, type PlistLimits, resolveLimits } from './limits';
import { type PlistDict, PlistReal, type PlistValue, isIntegral, setKey } from './value';

// Tag ids. Plain numbers (not an enum) so that the hot switch compiles to integer compares.
const T_UNKNOWN = 0;
const T_PLIST = 1;
const T_DICT = 2;
const T_ARRAY = 3;
const T_KEY = 4;
const T_STRING = 5;
const T_INTEGER = 6;
const T_REAL = 7;
const T_TRUE = 8;
const T_FALSE = 9;
const T_DATE = 10;
const T_DATA = 11;

const TAG_NAMES = [
  '?',
  'plist',
  'dict',
  'array',
  'key',
  'string',
  'integer',
  'real',
  'true',
  'false',
  'date',
  'data',
];
const TAG_BYTES = TAG_NAMES.map((n) => Uint8Array.from(n, (c) => c.charCodeAt(0)));

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const MAX_SAFE_DIGITS = 15;

/**
 * Parses an XML property list.
 *
 * Accepts UTF-8 (with or without BOM and XML declaration) and UTF-16 (with a BOM, or detected from the
 * first bytes). A `string` input is taken as already decoded. No DTD is processed and no entity other
 * than `&lt; &gt; &amp; &quot; &apos;` and numeric character references is expanded.
 *
 * @throws {@link PlistParseError} for any malformed input or exceeded limit.
 * @example
 * ```ts
 * import { parseXml } from '@mdmkit/plist';
 * const v = parseXml('<plist version="1.0"><dict><key>UDID</key><string>abc</string></dict></plist>');
 * // v = { UDID: 'abc' }
 * ```
 */
export function parseXml(input: Uint8Array | string, options?: ParseOptions): PlistValue {
  const limits = resolveLimits(options?.limits);
  let bytes: Uint8Array;
  let declaredEncodingMatters = true;
  if (typeof input === 'string') {
    if (input.length > limits.maxBytes) throw limitError('input larger than maxBytes', 0);
    bytes = Buffer.from(input.charCodeAt(0) === 0xfeff ? input.slice(1) : input, 'utf8');
    if (bytes.length > limits.maxBytes) throw limitError('input larger than maxBytes', 0);
    declaredEncodingMatters = false;
  } else {
    if (input.length > limits.maxBytes) throw limitError('input larger than maxBytes', 0);
    const utf16 = sniffUtf16(input);
    if (utf16 !== undefined) {
      let text: string;
      try {
        text = new TextDecoder(utf16, { fatal: true }).decode(input);
      } catch (cause) {
        throw new PlistParseError('INVALID_ENCODING', `input is not valid ${utf16}`, { offset: 0, cause });
      }
      bytes = Buffer.from(text, 'utf8');
      declaredEncodingMatters = false;
    } else {
      bytes =
        input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf
          ? input.subarray(3)
          : input;
    }
  }
  return new XmlParser(bytes, limits, options?.reals !== 'number', declaredEncodingMatters).parseDocument();
}

function sniffUtf16(b: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  if (b.length < 2) return undefined;
  if (b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  if (b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b.length >= 4) {
    if (b[0] === 0 && b[1] === 0x3c && b[2] === 0 && b[3] === 0x3f) return 'utf-16be';
    if (b[0] === 0x3c && b[1] === 0 && b[2] === 0x3f && b[3] === 0) return 'utf-16le';
  }
  return undefined;
}

function limitError(what: string, offset: number): PlistParseError {
  return new PlistParseError('LIMIT_EXCEEDED', what, { offset });
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

class XmlParser {
  private pos = 0;
  private count = 0;
  // Explicit stack of open containers: no recursion, so depth is bounded by limits.maxDepth only.
  private readonly containers: (PlistValue[] | PlistDict)[] = [];
  private readonly isDict: boolean[] = [];
  private readonly keys: (string | undefined)[] = [];
  // Set by a start tag: whether it ended with "/>".
  private selfClosing = false;

  private readonly buf: Buffer;
  private readonly view: DataView;

  constructor(
    private readonly b: Uint8Array,
    private readonly limits: PlistLimits,
    private readonly exactReals: boolean,
    private readonly checkEncoding: boolean,
  ) {
    this.buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  parseDocument(): PlistValue {
    this.skipProlog();
    const b = this.b;
    if (this.pos >= b.length) this.fail('EMPTY', 'no root element');
    if (b[this.pos] !== 0x3c) this.fail('INVALID_XML', 'text before the root element');
    let tag = this.readStartTag();
    let value: PlistValue;
    if (tag === T_PLIST) {
      if (this.selfClosing) this.fail('EMPTY', '<plist/> holds no value');
      this.skipMisc();
      if (this.pos >= b.length) this.fail('INVALID_XML', 'unterminated <plist>');
      if (b[this.pos + 1] === 0x2f) this.fail('EMPTY', '<plist> holds no value');
      if (b[this.pos] !== 0x3c) this.fail('INVALID_XML', 'text inside <plist>');
      tag = this.readStartTag();
      value = this.parseValue(tag);
      this.skipMisc();
      if (this.pos >= b.length) this.fail('INVALID_XML', 'unterminated <plist>');
      if (b[this.pos] !== 0x3c || b[this.pos + 1] !== 0x2f) {
        this.fail('INVALID_XML', '<plist> must hold exactly one value');
      }
      this.readEndTag(T_PLIST);
    } else {
      value = this.parseValue(tag);
    }
    this.skipMisc();
    if (this.pos < b.length) this.fail('INVALID_XML', 'content after the root element');
    return value;
  }

  /** Parses one value whose start tag has just been read, including everything nested in it. */
  private parseValue(firstTag: number): PlistValue {
    const b = this.b;
    const len = b.length;
    const containers = this.containers;
    const isDict = this.isDict;
    const keys = this.keys;
    const maxObjects = this.limits.maxObjects;
    let tag = firstTag;
    for (;;) {
      let value: PlistValue;
      switch (tag) {
        case T_STRING:
          value = this.selfClosing ? '' : this.readString(T_STRING);
          break;
        case T_DICT:
          if (this.selfClosing) value = {};
          else {
            this.push({}, true);
            value = undefined as never;
          }
          break;
        case T_ARRAY:
          if (this.selfClosing) value = [];
          else {
            this.push([], false);
            value = undefined as never;
          }
          break;
        case T_INTEGER:
          value = this.readInteger();
          break;
        case T_REAL:
          value = this.readReal();
          break;
        case T_TRUE:
        case T_FALSE:
          if (!this.selfClosing) this.readEndTag(tag);
          value = tag === T_TRUE;
          break;
        case T_DATE:
          value = this.readDate();
          break;
        case T_DATA:
          value = this.selfClosing ? new Uint8Array(0) : this.readData();
          break;
        case T_KEY:
          this.fail('INVALID_XML', '<key> outside <dict>');
          break;
        case T_PLIST:
          this.fail('INVALID_XML', 'nested <plist>');
          break;
        default:
          this.fail('UNKNOWN_TAG', 'unknown element', this.lastTagStart);
      }
      // Close as many containers as end here, delivering each finished value to its parent.
      for (;;) {
        if (value !== undefined) {
          if (++this.count > maxObjects) this.fail('LIMIT_EXCEEDED', 'more values than maxObjects');
          const depth = containers.length;
          if (depth === 0) return value;
          const top = containers[depth - 1]!;
          if (isDict[depth - 1]) {
            const key = keys[depth - 1]!;
            if (key === '__proto__') setKey(top as PlistDict, key, value);
            else (top as PlistDict)[key] = value;
            keys[depth - 1] = undefined;
          } else {
            (top as PlistValue[]).push(value);
          }
        }
        // Skip whitespace (fast) and comments/PIs (rare) to the next tag.
        let p = this.pos;
        while (p < len && isWs(b[p]!)) p++;
        this.pos = p;
        if (p < len && b[p] === 0x3c && (b[p + 1] === 0x21 || b[p + 1] === 0x3f)) {
          this.skipMisc();
          p = this.pos;
        }
        if (p >= len) this.fail('INVALID_XML', 'unexpected end of input inside a container');
        if (b[p] !== 0x3c) this.fail('INVALID_XML', 'text where an element belongs');
        if (b[p + 1] === 0x2f) {
          const depth = containers.length;
          const dict = isDict[depth - 1]!;
          if (dict && keys[depth - 1] !== undefined) this.fail('MISSING_VALUE', `no value after <key>`);
          this.endTag(dict ? T_DICT : T_ARRAY);
          value = containers.pop()!;
          isDict.pop();
          keys.pop();
          continue;
        }
        const depth = containers.length;
        tag = this.readStartTag();
        if (isDict[depth - 1] && keys[depth - 1] === undefined) {
          if (tag !== T_KEY) {
            this.fail(
              tag === T_UNKNOWN ? 'UNKNOWN_TAG' : 'EXPECTED_KEY',
              tag === T_UNKNOWN ? 'unknown element' : `<${TAG_NAMES[tag]}> where a <key> belongs`,
              p,
            );
          }
          keys[depth - 1] = this.selfClosing ? '' : this.readString(T_KEY);
          value = undefined as never;
          continue;
        }
        break;
      }
    }
  }

  private push(container: PlistValue[] | PlistDict, dict: boolean): void {
    if (this.containers.length >= this.limits.maxDepth) {
      this.fail('LIMIT_EXCEEDED', 'nesting deeper than maxDepth');
    }
    this.containers.push(container);
    this.isDict.push(dict);
    this.keys.push(undefined);
  }

  private lastTagStart = 0;

  /** Reads `<name attrs…>` or `<name attrs…/>` at pos; returns the tag id and sets selfClosing. */
  private readStartTag(): number {
    const b = this.b;
    const len = b.length;
    const start = this.pos;
    this.lastTagStart = start;
    let p = start + 1;
    while (p < len) {
      const c = b[p]!;
      if (c === 0x3e || c === 0x2f || isWs(c)) break;
      p++;
    }
    if (p >= len) this.fail('INVALID_XML', 'unterminated tag', start);
    const tag = tagId(b, start + 1, p);
    if (p === start + 1) this.fail('INVALID_XML', 'missing element name', start);
    let c = b[p]!;
    if (c === 0x3e) {
      this.selfClosing = false;
      this.pos = p + 1;
      return tag;
    }
    if (c === 0x2f) {
      if (b[p + 1] !== 0x3e) this.fail('INVALID_XML', "expected '>' after '/'", p);
      this.selfClosing = true;
      this.pos = p + 2;
      return tag;
    }
    // Attributes: checked for well-formedness, otherwise ignored.
    for (;;) {
      while (p < len && isWs(b[p]!)) p++;
      if (p >= len) this.fail('INVALID_XML', 'unterminated tag', start);
      c = b[p]!;
      if (c === 0x3e) {
        this.selfClosing = false;
        this.pos = p + 1;
        return tag;
      }
      if (c === 0x2f) {
        if (b[p + 1] !== 0x3e) this.fail('INVALID_XML', "expected '>' after '/'", p);
        this.selfClosing = true;
        this.pos = p + 2;
        return tag;
      }
      const nameStart = p;
      while (p < len) {
        c = b[p]!;
        if (c === 0x3d || c === 0x3e || c === 0x2f || c === 0x3c || c === 0x22 || c === 0x27 || isWs(c))
          break;
        p++;
      }
      if (p === nameStart) this.fail('INVALID_XML', 'malformed attribute', p);
      while (p < len && isWs(b[p]!)) p++;
      if (b[p] !== 0x3d) this.fail('INVALID_XML', "expected '=' in attribute", p);
      p++;
      while (p < len && isWs(b[p]!)) p++;
      const q = b[p];
      if (q !== 0x22 && q !== 0x27) this.fail('INVALID_XML', 'attribute value must be quoted', p);
      p++;
      while (p < len && b[p] !== q) {
        if (b[p] === 0x3c) this.fail('INVALID_XML', "'<' in attribute value", p);
        p++;
      }
      if (p >= len) this.fail('INVALID_XML', 'unterminated attribute value', nameStart);
      p++;
      const after = b[p];
      if (after !== undefined && after !== 0x3e && after !== 0x2f && !isWs(after)) {
        this.fail('INVALID_XML', 'attributes must be separated by whitespace', p);
      }
    }
  }

  /** `</name>` exactly (the usual spelling), else the general {@link readEndTag}. */
  private endTag(expected: number): void {
    const b = this.b;
    const p = this.pos;
    const name = TAG_BYTES[expected]!;
    const n = name.length;
    if (b[p] === 0x3c && b[p + 1] === 0x2f && b[p + 2 + n] === 0x3e) {
      let i = 0;
      while (i < n && b[p + 2 + i] === name[i]) i++;
      if (i === n) {
        this.pos = p + 3 + n;
        return;
      }
    }
    this.readEndTag(expected);
  }

  /** Reads `</name>` at pos, which must close `expected`. */
  private readEndTag(expected: number): void {
    const b = this.b;
    const len = b.length;
    const start = this.pos;
    if (b[start] !== 0x3c || b[start + 1] !== 0x2f) {
      this.fail('INVALID_XML', `expected </${TAG_NAMES[expected]}>`, start);
    }
    let p = start + 2;
    while (p < len) {
      const c = b[p]!;
      if (c === 0x3e || isWs(c)) break;
      p++;
    }
    if (tagId(b, start + 2, p) !== expected || !sameName(b, start + 2, p, expected)) {
      this.fail('INVALID_XML', `expected </${TAG_NAMES[expected]}>`, start);
    }
    while (p < len && isWs(b[p]!)) p++;
    if (b[p] !== 0x3e) this.fail('INVALID_XML', `unterminated </${TAG_NAMES[expected]}>`, start);
    this.pos = p + 1;
  }

  /**
   * Reads character data up to the end tag of `tag` and decodes it. The fast path covers text without
   * entities, CDATA, comments or CR; anything else goes through {@link readTextSlow}.
   */
  private readString(tag: number): string {
    const b = this.b;
    const len = b.length;
    const start = this.pos;
    let p = start;
    let high = 0;
    let plain = true;
    for (;;) {
      if (p >= len) this.fail('INVALID_XML', `unterminated <${TAG_NAMES[tag]}>`, start);
      const c = b[p]!;
      if (c < 0x3d) {
        if (c === 0x3c) break;
        if (c === 0x26 || c === 0x0d) plain = false;
      } else high |= c;
      p++;
    }
    let s: string;
    if (plain && b[p + 1] === 0x2f) {
      s = this.decode(start, p, high < 0x80);
      this.pos = p;
    } else {
      s = this.readTextSlow(start, tag);
    }
    if (s.length > this.limits.maxStringLength)
      this.fail('LIMIT_EXCEEDED', 'string longer than maxStringLength', start);
    this.readEndTag(tag);
    return s;
  }

  private decode(start: number, end: number, ascii: boolean): string {
    if (ascii) {
      const n = end - start;
      if (n <= MAX_CACHED) return cachedAsciiView(this.buf, this.view, start, n);
      return latin1Slice(this.buf, start, end);
    }
    try {
      return utf8.decode(this.b.subarray(start, end));
    } catch (cause) {
      this.fail('INVALID_ENCODING', 'invalid UTF-8', start, cause);
    }
  }

  /**
   * General character data: entities, character references, CDATA sections, comments and line-end
   * normalisation (CR LF and lone CR become LF, as XML requires). Leaves pos at the end tag.
   */
  private readTextSlow(start: number, tag: number): string {
    const b = this.b;
    const len = b.length;
    const parts: string[] = [];
    let p = start;
    let runStart = p;
    const flush = (end: number) => {
      if (end > runStart) parts.push(this.decode(runStart, end, false));
    };
    for (;;) {
      if (p >= len) this.fail('INVALID_XML', `unterminated <${TAG_NAMES[tag]}>`, start);
      const c = b[p]!;
      if (c === 0x3c) {
        if (b[p + 1] === 0x2f) break;
        if (startsWith(b, p, CDATA_OPEN)) {
          flush(p);
          const end = indexOfSeq(b, p + 9, CDATA_CLOSE);
          if (end < 0) this.fail('INVALID_XML', 'unterminated CDATA section', p);
          parts.push(normaliseNewlines(this.decode(p + 9, end, false)));
          p = end + 3;
          runStart = p;
          continue;
        }
        if (startsWith(b, p, COMMENT_OPEN)) {
          flush(p);
          p = this.skipComment(p);
          runStart = p;
          continue;
        }
        if (b[p + 1] === 0x3f) {
          flush(p);
          p = this.skipPi(p);
          runStart = p;
          continue;
        }
        this.fail('INVALID_XML', `element inside <${TAG_NAMES[tag]}>`, p);
      } else if (c === 0x26) {
        flush(p);
        const semi = b.indexOf(0x3b, p + 1);
        if (semi < 0 || semi - p > 12) this.fail('INVALID_ENTITY', 'unterminated entity reference', p);
        parts.push(this.entity(p + 1, semi));
        p = semi + 1;
        runStart = p;
        continue;
      } else if (c === 0x0d) {
        flush(p);
        parts.push('\n');
        p += b[p + 1] === 0x0a ? 2 : 1;
        runStart = p;
        continue;
      }
      p++;
    }
    flush(p);
    this.pos = p;
    return parts.length === 1 ? parts[0]! : parts.join('');
  }

  private entity(start: number, end: number): string {
    const b = this.b;
    const n = end - start;
    if (n >= 2 && b[start] === 0x23) {
      let cp = 0;
      let p = start + 1;
      const hex = b[p] === 0x78;
      if (hex) p++;
      if (p >= end) this.fail('INVALID_ENTITY', 'empty character reference', start - 1);
      for (; p < end; p++) {
        const c = b[p]!;
        let d: number;
        if (c >= 0x30 && c <= 0x39) d = c - 0x30;
        else if (hex && c >= 0x61 && c <= 0x66) d = c - 0x57;
        else if (hex && c >= 0x41 && c <= 0x46) d = c - 0x37;
        else this.fail('INVALID_ENTITY', 'bad character reference', start - 1);
        cp = cp * (hex ? 16 : 10) + d;
        if (cp > 0x10ffff) this.fail('INVALID_ENTITY', 'character reference out of range', start - 1);
      }
      // Any code point is accepted (XML 1.0 would refuse controls): the builder writes control
      // characters, which strings from binary plists may hold, as references, and must read them back.
      return String.fromCodePoint(cp);
    }
    const name = String.fromCharCode(...b.subarray(start, end));
    switch (name) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        this.fail('INVALID_ENTITY', 'unknown entity (only the five predefined ones are expanded)', start - 1);
    }
  }

  /** Text of a scalar element with surrounding whitespace removed; leaves pos after the end tag. */
  private readScalarText(tag: number): string {
    if (this.selfClosing) return '';
    return this.readString(tag).trim();
  }

  private readInteger(): number | bigint {
    const b = this.b;
    const start = this.pos;
    if (!this.selfClosing) {
      // Fast path: optional sign and up to 15 decimal digits directly followed by </integer>.
      let p = start;
      let neg = false;
      if (b[p] === 0x2d) {
        neg = true;
        p++;
      } else if (b[p] === 0x2b) p++;
      const digitsStart = p;
      let n = 0;
      while (p - digitsStart <= MAX_SAFE_DIGITS) {
        const c = (b[p] ?? 0) - 0x30;
        if (!(c >= 0 && c <= 9)) break;
        n = n * 10 + c;
        p++;
      }
      if (p > digitsStart && p - digitsStart <= MAX_SAFE_DIGITS && b[p] === 0x3c && b[p + 1] === 0x2f) {
        this.pos = p;
        this.endTag(T_INTEGER);
        return neg ? 0 - n || 0 : n;
      }
    }
    const text = this.readScalarText(T_INTEGER);
    return parseIntegerText(text, (code, msg) => this.fail(code, msg, start));
  }

  private readReal(): number | PlistReal {
    const start = this.pos;
    const text = this.readScalarText(T_REAL);
    const n = parseRealText(text);
    if (n === undefined)
      this.fail('INVALID_REAL', `invalid real ${JSON.stringify(text.slice(0, 40))}`, start);
    return this.exactReals && isIntegral(n) ? new PlistReal(n) : n;
  }

  private readDate(): Date {
    const start = this.pos;
    const text = this.readScalarText(T_DATE);
    const d = parseDateText(text);
    if (d === undefined)
      this.fail('INVALID_DATE', `invalid date ${JSON.stringify(text.slice(0, 40))}`, start);
    return d;
  }

  private readData(): Uint8Array {
    const b = this.b;
    const start = this.pos;
    const end = b.indexOf(0x3c, start);
    if (end < 0) this.fail('INVALID_XML', 'unterminated <data>', start);
    if (b[end + 1] !== 0x2f) {
      // Comments or CDATA inside <data>: rare, take the general path.
      const text = this.readTextSlow(start, T_DATA);
      if (/[^\x00-\x7f]/.test(text)) this.fail('INVALID_BASE64', 'invalid base64', start);
      const bytes = Buffer.from(text, 'latin1');
      const out = this.decodeData(bytes, 0, bytes.length, start);
      this.readEndTag(T_DATA);
      return out;
    }
    const out = this.decodeData(b, start, end, start);
    this.pos = end;
    this.readEndTag(T_DATA);
    return out;
  }

  private decodeData(src: Uint8Array, start: number, end: number, offset: number): Uint8Array {
    // The output is at most 3/4 of the text, which is bounded by maxBytes.
    const out = decodeBase64(src, start, end);
    if (typeof out === 'number') this.fail('INVALID_BASE64', 'invalid base64', offset + out);
    if (out.length > this.limits.maxDataLength)
      this.fail('LIMIT_EXCEEDED', 'data longer than maxDataLength', offset);
    return out;
  }

  /** Skips BOM-less prolog: XML declaration, comments, PIs, DOCTYPE and whitespace. */
  private skipProlog(): void {
    const b = this.b;
    if (startsWith(b, 0, XML_DECL) && (isWs(b[5] ?? 0) || b[5] === 0x3f)) {
      const end = indexOfSeq(b, 5, PI_CLOSE);
      if (end < 0) this.fail('INVALID_XML', 'unterminated XML declaration', 0);
      if (this.checkEncoding) this.checkDeclaredEncoding(end);
      this.pos = end + 2;
    }
    for (;;) {
      this.skipMisc();
      if (startsWith(b, this.pos, DOCTYPE_OPEN)) this.skipDoctype();
      else return;
    }
  }

  private checkDeclaredEncoding(end: number): void {
    const decl = latin1Slice(this.buf, 0, Math.min(end, 200));
    const m = /encoding\s*=\s*["']([^"']*)["']/.exec(decl);
    if (!m) return;
    const enc = m[1]!.toLowerCase();
    if (enc === 'utf-8' || enc === 'utf8' || enc === 'us-ascii' || enc === 'ascii') return;
    this.fail('UNSUPPORTED_ENCODING', `unsupported encoding ${JSON.stringify(m[1])}`, 0);
  }

  private skipDoctype(): void {
    const b = this.b;
    const start = this.pos;
    let p = start + 9;
    let quote = 0;
    for (; p < b.length; p++) {
      const c = b[p]!;
      if (quote !== 0) {
        if (c === quote) quote = 0;
      } else if (c === 0x22 || c === 0x27) quote = c;
      else if (c === 0x5b) this.fail('DTD_NOT_ALLOWED', 'DOCTYPE internal subsets are not processed', p);
      else if (c === 0x3e) {
        this.pos = p + 1;
        return;
      }
    }
    this.fail('INVALID_XML', 'unterminated DOCTYPE', start);
  }

  /** Skips whitespace, comments and processing instructions. */
  private skipMisc(): void {
    const b = this.b;
    const len = b.length;
    let p = this.pos;
    for (;;) {
      while (p < len && isWs(b[p]!)) p++;
      if (p < len && b[p] === 0x3c) {
        if (startsWith(b, p, COMMENT_OPEN)) {
          p = this.skipComment(p);
          continue;
        }
        if (b[p + 1] === 0x3f) {
          p = this.skipPi(p);
          continue;
        }
      }
      this.pos = p;
      return;
    }
  }

  private skipComment(p: number): number {
    const end = indexOfSeq(this.b, p + 4, COMMENT_CLOSE);
    if (end < 0) this.fail('INVALID_XML', 'unterminated comment', p);
    return end + 3;
  }

  private skipPi(p: number): number {
    const end = indexOfSeq(this.b, p + 2, PI_CLOSE);
    if (end < 0) this.fail('INVALID_XML', 'unterminated processing instruction', p);
    return end + 2;
  }

  private fail(code: PlistErrorCode, message: string, offset = this.pos, cause?: unknown): never {
    const { line, column } = lineColumn(this.b, offset);
    const keyPath: (string | number)[] = [];
    for (let i = 0; i < this.containers.length; i++) {
      if (this.isDict[i]) {
        const k = this.keys[i];
        if (k !== undefined) keyPath.push(k);
      } else keyPath.push((this.containers[i] as PlistValue[]).length);
    }
    throw new PlistParseError(code, message, { offset, line, column, keyPath, cause });
  }
}

const CDATA_OPEN = bytesOf('<![CDATA[');
const CDATA_CLOSE = bytesOf(']]>');
const COMMENT_OPEN = bytesOf('<!--');
const COMMENT_CLOSE = bytesOf('-->');
const PI_CLOSE = bytesOf('?>');
const XML_DECL = bytesOf('<?xml');
const DOCTYPE_OPEN = bytesOf('<!DOCTYPE');

function bytesOf(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function startsWith(b: Uint8Array, p: number, seq: Uint8Array): boolean {
  if (p + seq.length > b.length) return false;
  for (let i = 0; i < seq.length; i++) if (b[p + i] !== seq[i]) return false;
  return true;
}

function indexOfSeq(b: Uint8Array, from: number, seq: Uint8Array): number {
  const first = seq[0]!;
  let p = from;
  for (;;) {
    p = b.indexOf(first, p);
    if (p < 0) return -1;
    if (startsWith(b, p, seq)) return p;
    p++;
  }
}

function normaliseNewlines(s: string): string {
  return s.indexOf('\r') < 0 ? s : s.replace(/\r\n?/g, '\n');
}

function lineColumn(b: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, b.length);
  for (let i = 0; i < end; i++) {
    if (b[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** Identifies a tag name by length and bytes without building a string. */
function tagId(b: Uint8Array, s: number, e: number): number {
  const c0 = b[s];
  switch (e - s) {
    case 3:
      return c0 === 0x6b && b[s + 1] === 0x65 && b[s + 2] === 0x79 ? T_KEY : T_UNKNOWN;
    case 4:
      if (c0 === 0x64) {
        if (b[s + 1] === 0x69 && b[s + 2] === 0x63 && b[s + 3] === 0x74) return T_DICT;
        if (b[s + 1] === 0x61 && b[s + 2] === 0x74) {
          if (b[s + 3] === 0x65) return T_DATE;
          if (b[s + 3] === 0x61) return T_DATA;
        }
        return T_UNKNOWN;
      }
      if (c0 === 0x72) return sameName(b, s, e, T_REAL) ? T_REAL : T_UNKNOWN;
      if (c0 === 0x74) return sameName(b, s, e, T_TRUE) ? T_TRUE : T_UNKNOWN;
      return T_UNKNOWN;
    case 5:
      if (c0 === 0x61) return sameName(b, s, e, T_ARRAY) ? T_ARRAY : T_UNKNOWN;
      if (c0 === 0x66) return sameName(b, s, e, T_FALSE) ? T_FALSE : T_UNKNOWN;
      if (c0 === 0x70) return sameName(b, s, e, T_PLIST) ? T_PLIST : T_UNKNOWN;
      return T_UNKNOWN;
    case 6:
      return sameName(b, s, e, T_STRING) ? T_STRING : T_UNKNOWN;
    case 7:
      return sameName(b, s, e, T_INTEGER) ? T_INTEGER : T_UNKNOWN;
    default:
      return T_UNKNOWN;
  }
}

function sameName(b: Uint8Array, s: number, e: number, tag: number): boolean {
  const name = TAG_BYTES[tag]!;
  const n = name.length;
  if (e - s !== n) return false;
  for (let i = 0; i < n; i++) if (b[s + i] !== name[i]) return false;
  return true;
}

const INT_RE = /^[+-]?(?:[0-9]+|0[xX][0-9a-fA-F]+)$/;
const MIN_INT = -(2n ** 63n);
const MAX_INT = 2n ** 64n - 1n;

/** Integer text (decimal or 0x-hex) to number when safe, bigint otherwise. */
export function parseIntegerText(
  text: string,
  fail: (code: PlistErrorCode, message: string) => never,
): number | bigint {
  if (!INT_RE.test(text)) fail('INVALID_INTEGER', `invalid integer ${JSON.stringify(text.slice(0, 40))}`);
  const neg = text.charCodeAt(0) === 0x2d;
  const body = text.charCodeAt(0) === 0x2d || text.charCodeAt(0) === 0x2b ? text.slice(1) : text;
  if (body.length > 200) fail('INTEGER_OUT_OF_RANGE', 'integer out of range');
  let v = BigInt(body);
  if (neg) v = -v;
  if (v < MIN_INT || v > MAX_INT) fail('INTEGER_OUT_OF_RANGE', `integer ${text.slice(0, 40)} out of range`);
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

const REAL_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** Real text to number; accepts nan/inf/infinity with optional sign, case-insensitive. */
export function parseRealText(text: string): number | undefined {
  if (REAL_RE.test(text)) return Number(text);
  switch (text.toLowerCase()) {
    case 'nan':
    case '+nan':
    case '-nan':
      return Number.NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Number.POSITIVE_INFINITY;
    case '-inf':
    case '-infinity':
      return Number.NEGATIVE_INFINITY;
    default:
      return undefined;
  }
}

const DATE_RE = /^(\d{4})(?:-(\d\d)(?:-(\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d))?)?)?)?)?Z$/;

/** `YYYY-MM-DDTHH:MM:SSZ` (trailing parts may be left out, as Apple's and python's readers allow). */
export function parseDateText(text: string): Date | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  if (d.getUTCDate() !== day) return undefined;
  d.setUTCHours(hour, minute, second, 0);
  return d;
}
