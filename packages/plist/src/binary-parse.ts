import { latin1Slice } from './byte-writer';
import { PlistParseError, type PlistErrorCode } from './errors';
import { type ParseOptions, type PlistLimits, resolveLimits } from './limits';
import { cachedAsciiView, MAX_CACHED } from './string-cache';
import {
  APPLE_EPOCH_MS,
  type PlistDict,
  PlistReal,
  PlistUid,
  type PlistValue,
  isIntegral,
  setKey,
} from './value';

const TRAILER = 32;
const TWO_32 = 2 ** 32;

// What a value costs in memory, as measured on V8's 64-bit heap (test/budget.test.ts), for the byte
// budget. Exactness does not matter; what matters is that every reference pays for what it makes.
/** The slot that holds a value (or a dict key) in its container. */
const SLOT = 8;
/** An object made per reference: PlistReal, PlistUid, bigint, a number that is no small integer. */
const BOXED = 48;
/** A Date, which caches its calendar fields. */
const DATE = 112;
/** An array or dict object itself. */
const CONTAINER = 64;
/** A dict entry's hash-table bookkeeping beyond its key and value slots. */
const DICT_ENTRY = 48;
/** A Uint8Array with its ArrayBuffer and backing store, before the bytes. */
const DATA = 200;
/** A string's header, before its characters. */
const STRING = 16;
const ON_PATH_POOL = new Uint8Array(4096);

/** An array or dict being filled in; its child references are read one by one. */
interface Frame {
  ref: number;
  container: PlistValue[] | PlistDict;
  dict: boolean;
  /** Offset of the first child reference (for dicts: of the keys; values follow after `n` refs). */
  refs: number;
  n: number;
  i: number;
  key: string | undefined;
}

/**
 * Parses a binary property list (`bplist00`).
 *
 * Dates carry sub-millisecond precision in this format; they are rounded to the nearest millisecond.
 * An object referenced from several places is decoded into separate, equal values (counting against
 * `maxObjects` each time), so mutating one never changes another. Each `<data>` value is a fresh
 * `Uint8Array` of its own (never a `Buffer`, never a view into `input`), whatever kind of
 * `Uint8Array` the input is.
 *
 * Since one stored object can be referenced many times, the reader keeps a budget of the bytes it
 * materialises (data and string contents, containers and boxed values made for each reference):
 * `maxExpansion` times the input size, at least `minExpansionBytes` (see {@link PlistLimits}).
 *
 * @throws {@link PlistParseError} for a malformed or truncated document, references out of range,
 *   reference cycles, `null`/`set` objects and exceeded limits (`LIMIT_EXCEEDED`, also when the byte
 *   budget runs out).
 * @example
 * ```ts
 * import { buildBinary, parseBinary } from '@mdmkit/plist';
 * parseBinary(buildBinary({ Serial: 'C02XYZ', Battery: 0.5 })); // { Serial: 'C02XYZ', Battery: 0.5 }
 * ```
 */
export function parseBinary(input: Uint8Array, options?: ParseOptions): PlistValue {
  const limits = resolveLimits(options?.limits);
  if (input.length > limits.maxBytes) {
    throw new PlistParseError('LIMIT_EXCEEDED', 'input larger than maxBytes', { offset: 0 });
  }
  return new BinaryParser(input, limits, options?.reals !== 'number').parse();
}

class BinaryParser {
  private readonly buf: Buffer;
  private readonly view: DataView;
  private readonly end: number;
  private offsetSize = 0;
  private refSize = 0;
  private numObjects = 0;
  private tableOffset = 0;
  private count = 0;
  /** Bytes still allowed to be materialised. */
  private budget: number;
  private onPath!: Uint8Array;
  private strings: (string | undefined)[] = [];
  private readonly stack: Frame[] = [];

  constructor(
    private readonly b: Uint8Array,
    private readonly limits: PlistLimits,
    private readonly exactReals: boolean,
  ) {
    this.buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.end = b.length - TRAILER;
    // A document whose objects are each referenced once materialises a small multiple of its size;
    // only references to one object from many places (a "billion laughs", or one large data object
    // repeated) go far beyond it.
    this.budget = Math.max(limits.minExpansionBytes, limits.maxExpansion * b.length);
  }

  /** Takes `bytes` from the budget. */
  private spend(bytes: number, offset?: number): void {
    this.budget -= bytes;
    if (this.budget < 0) {
      this.fail(
        'LIMIT_EXCEEDED',
        'values materialised exceed the byte budget (maxExpansion times the input size, at least minExpansionBytes)',
        offset,
      );
    }
  }

  parse(): PlistValue {
    const b = this.b;
    if (
      b.length < 8 ||
      b[0] !== 0x62 || // b p l i s t 0 0
      b[1] !== 0x70 ||
      b[2] !== 0x6c ||
      b[3] !== 0x69 ||
      b[4] !== 0x73 ||
      b[5] !== 0x74 ||
      b[6] !== 0x30 ||
      b[7] !== 0x30
    ) {
      this.fail('INVALID_BINARY', 'missing bplist00 header', 0);
    }
    if (b.length < 8 + 1 + TRAILER) this.fail('TRUNCATED', 'too short for a binary property list', b.length);
    const t = this.end;
    this.offsetSize = b[t + 6]!;
    this.refSize = b[t + 7]!;
    const numObjects = this.readUInt(t + 8, 8);
    const top = this.readUInt(t + 16, 8);
    const tableOffset = this.readUInt(t + 24, 8);
    if (this.offsetSize < 1 || this.offsetSize > 8)
      this.fail('INVALID_BINARY', 'offset size out of range', t + 6);
    if (this.refSize < 1 || this.refSize > 8)
      this.fail('INVALID_BINARY', 'reference size out of range', t + 7);
    if (numObjects < 1) this.fail('INVALID_BINARY', 'no objects', t + 8);
    if (top >= numObjects) this.fail('OFFSET_OUT_OF_RANGE', 'top object out of range', t + 16);
    if (tableOffset < 8 || tableOffset + numObjects * this.offsetSize > t) {
      this.fail('OFFSET_OUT_OF_RANGE', 'offset table outside the document', t + 24);
    }
    this.numObjects = numObjects;
    this.tableOffset = tableOffset;
    // Both are bounded by the offset table, hence by the input size.
    if (numObjects <= ON_PATH_POOL.length) {
      // Parsing never re-enters itself, so one table serves every small document.
      this.onPath = ON_PATH_POOL;
      ON_PATH_POOL.fill(0, 0, numObjects);
    } else this.onPath = new Uint8Array(numObjects);
    // Preallocated for ordinary documents; past a million objects a sparse array keeps memory
    // proportional to the strings actually read.
    this.strings = numObjects <= 1 << 20 ? new Array(numObjects) : [];

    const root = this.readObject(top);
    const stack = this.stack;
    const refSize = this.refSize;
    // One frame is filled in until it is done or a child container is pushed (then the child goes
    // first); the loop re-reads the top frame only when the stack changes.
    while (stack.length > 0) {
      const depth = stack.length;
      const f = stack[depth - 1]!;
      const n = f.n;
      const refs = f.refs;
      if (f.dict) {
        const dict = f.container as PlistDict;
        while (f.i < n && stack.length === depth) {
          const i = f.i++;
          f.key = undefined;
          const kp = refs + i * refSize;
          const vp = refs + (n + i) * refSize;
          const key = this.readKey(refSize === 1 ? b[kp]! : this.readUInt(kp, refSize));
          f.key = key;
          const value = this.readObject(refSize === 1 ? b[vp]! : this.readUInt(vp, refSize));
          if (key === '__proto__') setKey(dict, key, value);
          else dict[key] = value;
        }
      } else {
        const arr = f.container as PlistValue[];
        while (f.i < n && stack.length === depth) {
          const p = refs + f.i++ * refSize;
          arr.push(this.readObject(refSize === 1 ? b[p]! : this.readUInt(p, refSize)));
        }
      }
      if (f.i === n && stack.length === depth) {
        stack.pop();
        this.onPath[f.ref] = 0;
      }
    }
    return root;
  }

  /** Big-endian unsigned integer of 1–8 bytes (above 2^53 the result is approximate, and out of range anyway). */
  private readUInt(p: number, n: number): number {
    const b = this.b;
    switch (n) {
      case 1:
        return b[p]!;
      case 2:
        return (b[p]! << 8) | b[p + 1]!;
      case 4:
        return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
      default: {
        let v = 0;
        for (let i = 0; i < n; i++) v = v * 256 + b[p + i]!;
        return v;
      }
    }
  }

  private offsetOf(ref: number): number {
    if (ref >= this.numObjects) this.fail('OFFSET_OUT_OF_RANGE', `reference ${ref} out of range`);
    const os = this.offsetSize;
    const p = this.tableOffset + ref * os;
    const b = this.b;
    const off = os === 2 ? (b[p]! << 8) | b[p + 1]! : os === 1 ? b[p]! : this.readUInt(p, os);
    if (off < 8 || off >= this.end) this.fail('OFFSET_OUT_OF_RANGE', `object offset ${off} out of range`);
    return off;
  }

  /** Reads the length that follows a marker whose low nibble is `lo`; returns [length, first data byte]. */
  private lengthAt(off: number, lo: number): number {
    if (lo !== 0x0f) {
      this.dataStart = off + 1;
      return lo;
    }
    const m = this.b[off + 1];
    if (m === undefined || off + 1 >= this.end || m >> 4 !== 1 || (m & 0x0f) > 3) {
      this.fail('INVALID_BINARY', 'bad length field', off + 1);
    }
    const size = 1 << (m & 0x0f);
    if (off + 2 + size > this.end) this.fail('TRUNCATED', 'length field past the end', off + 1);
    this.dataStart = off + 2 + size;
    return this.readUInt(off + 2, size);
  }

  private dataStart = 0;

  private need(start: number, bytes: number, what: string): void {
    if (start + bytes > this.end) this.fail('TRUNCATED', `${what} runs past the object table`, start);
  }

  private readKey(ref: number): string {
    this.spend(SLOT);
    const cached = this.strings[ref];
    if (cached !== undefined) {
      if (++this.count > this.limits.maxObjects) this.tooMany();
      this.spend(cached.length);
      return cached;
    }
    const off = this.offsetOf(ref);
    const hi = this.b[off]! >> 4;
    if (hi !== 5 && hi !== 6) this.fail('INVALID_KEY', 'dictionary key is not a string', off);
    return this.readObject(ref) as string;
  }

  private readObject(ref: number): PlistValue {
    if (++this.count > this.limits.maxObjects) this.tooMany();
    this.spend(SLOT);
    const cached = this.strings[ref];
    if (cached !== undefined) {
      // Shared in memory, but a value of its full length to whoever writes the result out.
      this.spend(cached.length);
      return cached;
    }
    const b = this.b;
    const off = this.offsetOf(ref);
    const marker = b[off]!;
    const lo = marker & 0x0f;
    switch (marker >> 4) {
      case 0x0:
        if (marker === 0x08) return false;
        if (marker === 0x09) return true;
        if (marker === 0x00) this.fail('UNSUPPORTED_TYPE', 'null objects are not supported', off);
        if (marker === 0x0f) this.fail('UNSUPPORTED_TYPE', 'fill bytes are not an object', off);
        return this.fail('INVALID_BINARY', `unknown object marker 0x${marker.toString(16)}`, off);
      case 0x1:
        return this.readInt(off, lo);
      case 0x2: {
        let v: number;
        if (lo === 2) {
          this.need(off + 1, 4, 'real');
          v = this.buf.readFloatBE(off + 1);
        } else if (lo === 3) {
          this.need(off + 1, 8, 'real');
          v = this.buf.readDoubleBE(off + 1);
        } else return this.fail('INVALID_BINARY', 'unsupported real size', off);
        this.spend(BOXED, off);
        return this.exactReals && isIntegral(v) ? new PlistReal(v) : v;
      }
      case 0x3: {
        if (marker !== 0x33) this.fail('INVALID_BINARY', 'unsupported date size', off);
        this.need(off + 1, 8, 'date');
        this.spend(DATE, off);
        const ms = Math.round(this.buf.readDoubleBE(off + 1) * 1000 + APPLE_EPOCH_MS);
        const d = new Date(ms);
        if (Number.isNaN(d.getTime())) this.fail('INVALID_DATE', 'date out of range', off);
        return d;
      }
      case 0x4: {
        const n = this.lengthAt(off, lo);
        const s = this.dataStart;
        this.need(s, n, 'data');
        if (n > this.limits.maxDataLength) this.fail('LIMIT_EXCEEDED', 'data longer than maxDataLength', off);
        this.spend(DATA + n, off);
        // A copy of its own: a view would alias the input (and other references to this object)
        // and keep the whole input alive.
        const data = new Uint8Array(n);
        data.set(b.subarray(s, s + n));
        return data;
      }
      case 0x5: {
        const n = this.lengthAt(off, lo);
        const s = this.dataStart;
        this.need(s, n, 'string');
        if (n > this.limits.maxStringLength)
          this.fail('LIMIT_EXCEEDED', 'string longer than maxStringLength', off);
        // Strings are immutable and kept per object: later references share this one but pay for its
        // length again, since each is a string of that length in the result (and in any output made from it).
        this.spend(STRING + n, off);
        const str =
          n <= MAX_CACHED ? cachedAsciiView(this.buf, this.view, s, n) : latin1Slice(this.buf, s, s + n);
        this.strings[ref] = str;
        return str;
      }
      case 0x6: {
        const n = this.lengthAt(off, lo);
        const s = this.dataStart;
        this.need(s, n * 2, 'string');
        if (n > this.limits.maxStringLength)
          this.fail('LIMIT_EXCEEDED', 'string longer than maxStringLength', off);
        this.spend(STRING + 2 * n, off);
        let str: string;
        if (n < 24) {
          str = '';
          for (let i = s; i < s + 2 * n; i += 2) str += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
        } else {
          // Copy, swap to little-endian and take the code units as they are (lone surrogates survive).
          const copy = Buffer.from(b.subarray(s, s + 2 * n));
          copy.swap16();
          str = copy.toString('utf16le');
        }
        this.strings[ref] = str;
        return str;
      }
      case 0x8: {
        const n = lo + 1;
        this.need(off + 1, n, 'UID');
        if (n > 8) this.fail('INVALID_BINARY', 'UID wider than 8 bytes', off);
        const v = this.readUInt(off + 1, n);
        if (!Number.isSafeInteger(v)) this.fail('INTEGER_OUT_OF_RANGE', 'UID above 2^53-1', off);
        this.spend(BOXED, off);
        return new PlistUid(v);
      }
      case 0xa:
      case 0xd: {
        const dict = marker >> 4 === 0xd;
        const n = this.lengthAt(off, lo);
        const s = this.dataStart;
        // Validate the count against the bytes present before allocating anything for it.
        this.need(s, (dict ? 2 : 1) * n * this.refSize, dict ? 'dict' : 'array');
        if (this.onPath[ref] === 1) this.fail('CYCLE', 'a container contains itself', off);
        // Charged whole before any child is read: a container rebuilt for every reference pays each time.
        this.spend(CONTAINER + (dict ? DICT_ENTRY * n : 0), off);
        const container: PlistValue[] | PlistDict = dict ? {} : [];
        if (n > 0) {
          if (this.stack.length >= this.limits.maxDepth)
            this.fail('LIMIT_EXCEEDED', 'nesting deeper than maxDepth', off);
          this.onPath[ref] = 1;
          this.stack.push({ ref, container, dict, refs: s, n, i: 0, key: undefined });
        }
        return container;
      }
      case 0xc:
        return this.fail('UNSUPPORTED_TYPE', 'set objects are not supported', off);
      default:
        return this.fail('INVALID_BINARY', `unknown object marker 0x${marker.toString(16)}`, off);
    }
  }

  private readInt(off: number, lo: number): number | bigint {
    const b = this.b;
    const p = off + 1;
    switch (lo) {
      case 0:
        this.need(p, 1, 'integer');
        return b[p]!;
      case 1:
        this.need(p, 2, 'integer');
        return (b[p]! << 8) | b[p + 1]!;
      case 2:
        this.need(p, 4, 'integer');
        // Wider integers may be heap numbers or bigints: counted as boxed.
        this.spend(BOXED, off);
        return this.buf.readUInt32BE(p);
      case 3: {
        // 8-byte integers are signed.
        this.need(p, 8, 'integer');
        this.spend(BOXED, off);
        const hi = this.buf.readInt32BE(p);
        const low = this.buf.readUInt32BE(p + 4);
        const v = hi * TWO_32 + low;
        return Number.isSafeInteger(v) ? v : this.buf.readBigInt64BE(p);
      }
      case 4: {
        // 16-byte form: a signed 128-bit integer; only −2^63 … 2^64−1 is representable here.
        this.need(p, 16, 'integer');
        this.spend(BOXED, off);
        const v = (this.buf.readBigInt64BE(p) << 64n) | this.buf.readBigUInt64BE(p + 8);
        if (v < -(2n ** 63n) || v > 2n ** 64n - 1n)
          this.fail('INTEGER_OUT_OF_RANGE', 'integer out of range', off);
        const n = Number(v);
        return Number.isSafeInteger(n) ? n : v;
      }
      default:
        return this.fail('INVALID_BINARY', 'unsupported integer size', off);
    }
  }

  private tooMany(): never {
    this.fail('LIMIT_EXCEEDED', 'more values than maxObjects');
  }

  private fail(code: PlistErrorCode, message: string, offset?: number): never {
    const keyPath: (string | number)[] = [];
    for (const f of this.stack) {
      if (f.dict) {
        if (f.key !== undefined) keyPath.push(f.key);
      } else keyPath.push(f.i - 1);
    }
    throw new PlistParseError(code, message, offset === undefined ? { keyPath } : { offset, keyPath });
  }
}
