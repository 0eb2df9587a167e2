import { PlistParseError } from './errors';
import { APPLE_EPOCH_MS, type PlistDict, PlistReal, PlistUid, type PlistValue, isIntegral } from './value';
import { checkBigInt } from './xml-build';

const MAX_BUILD_DEPTH = 2048;
const TWO_32 = 2 ** 32;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Writes a value as a binary property list (`bplist00`).
 *
 * Equal strings, numbers, dates, small data values and UIDs are stored once; a container object that
 * appears several times in `value` is stored once too. Reference and offset sizes are the smallest of
 * 1, 2, 4 or 8 bytes that fit. Integers above 2^63−1 use the 16-byte form. Numbers follow the same rule
 * as {@link buildXml}.
 *
 * @throws {@link PlistParseError} `INVALID_VALUE` / `CYCLE` as {@link buildXml} does.
 * @example
 * ```ts
 * import { buildBinary } from '@mdmkit/plist';
 * const bytes = buildBinary({ PayloadVersion: 1, PayloadContent: [] });
 * // bytes starts with "bplist00"
 * ```
 */
export function buildBinary(value: PlistValue): Uint8Array {
  const f = new Flattener();
  f.add(value, 0);
  return new ObjectWriter(f).write();
}

// Object kinds in the flat table.
const K_STRING = 0;
const K_INT = 1;
const K_REAL = 2;
const K_BOOL = 3;
const K_DATE = 4;
const K_DATA = 5;
const K_UID = 6;
const K_ARRAY = 7;
const K_DICT = 8;
const K_USTRING = 9;
const TRAILER = 32;

class Flattener {
  readonly kinds: number[] = [];
  readonly values: unknown[] = [];
  /** For arrays: child ids; for dicts: key ids then value ids. */
  readonly children: (number[] | undefined)[] = [];
  private readonly strings = new Map<string, number>();
  private readonly ints = new Map<number | bigint, number>();
  private readonly reals = new Map<number, number>();
  private negZero = -1;
  private readonly dates = new Map<number, number>();
  private readonly datas = new Map<string, number>();
  private readonly uids = new Map<number, number>();
  private readonly containers = new Map<object, number>();
  private readonly bools = [-1, -1];
  private readonly path: object[] = [];

  private push(kind: number, value: unknown): number {
    const id = this.kinds.length;
    this.kinds.push(kind);
    this.values.push(value);
    this.children.push(undefined);
    return id;
  }

  private string(s: string): number {
    let id = this.strings.get(s);
    if (id === undefined) {
      id = this.push(K_STRING, s);
      this.strings.set(s, id);
    }
    return id;
  }

  private int(v: number | bigint): number {
    let id = this.ints.get(v);
    if (id === undefined) {
      id = this.push(K_INT, v);
      this.ints.set(v, id);
    }
    return id;
  }

  private real(v: number): number {
    if (Object.is(v, -0)) {
      if (this.negZero < 0) this.negZero = this.push(K_REAL, v);
      return this.negZero;
    }
    let id = this.reals.get(v);
    if (id === undefined) {
      id = this.push(K_REAL, v);
      this.reals.set(v, id);
    }
    return id;
  }

  add(v: PlistValue, depth: number): number {
    switch (typeof v) {
      case 'string':
        return this.string(v);
      case 'number':
        return isIntegral(v) ? this.int(v) : this.real(v);
      case 'boolean': {
        const i = v ? 1 : 0;
        if (this.bools[i]! < 0) this.bools[i] = this.push(K_BOOL, v);
        return this.bools[i]!;
      }
      case 'bigint': {
        checkBigInt(v);
        const n = Number(v);
        return this.int(Number.isSafeInteger(n) ? n : v);
      }
      case 'object':
        break;
      default:
        throw invalid(`cannot write a ${typeof v}`);
    }
    if (v === null) throw invalid('cannot write null');
    if (v instanceof Uint8Array) {
      if (v.length > 64) return this.push(K_DATA, v);
      const key = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
      let id = this.datas.get(key);
      if (id === undefined) {
        id = this.push(K_DATA, v);
        this.datas.set(key, id);
      }
      return id;
    }
    if (v instanceof Date) {
      const t = v.getTime();
      if (Number.isNaN(t)) throw invalid('invalid Date');
      let id = this.dates.get(t);
      if (id === undefined) {
        id = this.push(K_DATE, t);
        this.dates.set(t, id);
      }
      return id;
    }
    if (v instanceof PlistReal) return this.real(v.value);
    if (v instanceof PlistUid) {
      if (!Number.isSafeInteger(v.value) || v.value < 0) throw invalid(`invalid UID ${v.value}`);
      let id = this.uids.get(v.value);
      if (id === undefined) {
        id = this.push(K_UID, v.value);
        this.uids.set(v.value, id);
      }
      return id;
    }
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Map || v instanceof Set) {
      throw invalid(
        `cannot write a ${Object.prototype.toString.call(v)}; use Uint8Array for data and objects for dicts`,
      );
    }
    const seen = this.containers.get(v);
    if (seen !== undefined) {
      if (this.path.includes(v)) throw new PlistParseError('CYCLE', 'a container contains itself');
      return seen;
    }
    if (depth >= MAX_BUILD_DEPTH) throw invalid(`nesting deeper than ${MAX_BUILD_DEPTH}`);
    this.path.push(v);
    let id: number;
    if (Array.isArray(v)) {
      id = this.push(K_ARRAY, undefined);
      this.containers.set(v, id);
      const refs = new Array<number>(v.length);
      for (let i = 0; i < v.length; i++) {
        const item = v[i];
        if (item === undefined) throw invalid(`array hole or undefined at index ${i}`);
        refs[i] = this.add(item, depth + 1);
      }
      this.children[id] = refs;
    } else {
      id = this.push(K_DICT, undefined);
      this.containers.set(v, id);
      const dict = v as PlistDict;
      const keys = Object.keys(dict);
      const nk = keys.length;
      // Key refs in the first half, value refs in the second; compacted if a value is undefined.
      let refs = new Array<number>(2 * nk);
      let j = 0;
      for (let i = 0; i < nk; i++) {
        const k = keys[i]!;
        const item = dict[k];
        if (item === undefined) continue;
        refs[j] = this.string(k);
        refs[nk + j] = this.add(item, depth + 1);
        j++;
      }
      if (j < nk) refs = refs.slice(0, j).concat(refs.slice(nk, nk + j));
      this.children[id] = refs;
    }
    this.path.pop();
    return id;
  }
}

function invalid(message: string): PlistParseError {
  return new PlistParseError('INVALID_VALUE', message);
}

function sizeFor(max: number): number {
  if (max < 0x100) return 1;
  if (max < 0x10000) return 2;
  if (max < TWO_32) return 4;
  return 8;
}

/** Bytes of a marker with a count (see `ObjectWriter.header`). */
function headerSize(count: number): number {
  return count < 15 ? 1 : 1 + intSize(count);
}

/** Bytes of an integer object (see `ObjectWriter.intObject`). */
function intSize(v: number | bigint): number {
  if (typeof v === 'number') return v >= 0 && v < TWO_32 ? 1 + sizeFor(v) : 9;
  return v >= INT64_MIN && v <= INT64_MAX ? 9 : 17;
}

class ObjectWriter {
  private buf = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  private pos = 8;

  constructor(private readonly f: Flattener) {}

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private uint(v: number, size: number): void {
    const b = this.buf;
    let p = this.pos;
    if (size === 8) {
      const hi = Math.floor(v / TWO_32);
      this.view.setUint32(p, hi);
      this.view.setUint32(p + 4, v - hi * TWO_32);
    } else {
      for (let i = size - 1; i >= 0; i--) {
        b[p + i] = v & 0xff;
        v = Math.floor(v / 256);
      }
    }
    p += size;
    this.pos = p;
  }

  /** Marker with a count: in the low nibble when < 15, else 0xF and an integer object. */
  private header(type: number, count: number): void {
    this.ensure(10);
    if (count < 15) {
      this.buf[this.pos++] = (type << 4) | count;
      return;
    }
    this.buf[this.pos++] = (type << 4) | 0x0f;
    this.intObject(count);
  }

  private intObject(v: number | bigint): void {
    this.ensure(17);
    const b = this.buf;
    if (typeof v === 'number') {
      if (v >= 0 && v < TWO_32) {
        const size = sizeFor(v);
        b[this.pos++] = 0x10 | (size === 1 ? 0 : size === 2 ? 1 : 2);
        this.uint(v, size);
        return;
      }
      // 8-byte signed (two's complement through hi/lo words).
      b[this.pos++] = 0x13;
      const hi = Math.floor(v / TWO_32);
      this.view.setInt32(this.pos, hi);
      this.view.setUint32(this.pos + 4, v - hi * TWO_32);
      this.pos += 8;
      return;
    }
    if (v >= INT64_MIN && v <= INT64_MAX) {
      b[this.pos++] = 0x13;
      this.view.setBigInt64(this.pos, v);
      this.pos += 8;
      return;
    }
    // 2^63 … 2^64−1: the 16-byte form, high half zero.
    b[this.pos++] = 0x14;
    this.view.setBigUint64(this.pos, 0n);
    this.view.setBigUint64(this.pos + 8, v);
    this.pos += 16;
  }

  write(): Uint8Array {
    const f = this.f;
    const n = f.kinds.length;
    const refSize = sizeFor(n - 1);
    // Size the output exactly in a first pass (and note which strings need UTF-16), so that it is
    // allocated once and never copied.
    let size = 8;
    let lastOffset = 8;
    for (let id = 0; id < n; id++) {
      lastOffset = size;
      const v = f.values[id];
      switch (f.kinds[id]) {
        case K_STRING: {
          const str = v as string;
          const len = str.length;
          let i = 0;
          while (i < len && str.charCodeAt(i) < 0x80) i++;
          if (i < len) {
            f.kinds[id] = K_USTRING;
            size += headerSize(len) + 2 * len;
          } else size += headerSize(len) + len;
          break;
        }
        case K_INT:
          size += intSize(v as number | bigint);
          break;
        case K_REAL:
        case K_DATE:
          size += 9;
          break;
        case K_BOOL:
          size += 1;
          break;
        case K_DATA:
          size += headerSize((v as Uint8Array).length) + (v as Uint8Array).length;
          break;
        case K_UID:
          size += 1 + sizeFor(v as number);
          break;
        default: {
          const refs = f.children[id]!;
          size += headerSize(f.kinds[id] === K_DICT ? refs.length / 2 : refs.length) + refs.length * refSize;
        }
      }
    }
    const offsetSize = sizeFor(lastOffset);
    this.buf = new Uint8Array(size + n * offsetSize + TRAILER);
    this.view = new DataView(this.buf.buffer);
    const offsets = new Array<number>(n);
    this.buf.set([0x62, 0x70, 0x6c, 0x69, 0x73, 0x74, 0x30, 0x30]);
    for (let id = 0; id < n; id++) {
      offsets[id] = this.pos;
      const v = f.values[id];
      switch (f.kinds[id]) {
        case K_STRING:
          this.ascii(v as string);
          break;
        case K_USTRING:
          this.utf16(v as string);
          break;
        case K_INT:
          this.intObject(v as number | bigint);
          break;
        case K_REAL:
          this.ensure(9);
          this.buf[this.pos++] = 0x23;
          this.view.setFloat64(this.pos, v as number);
          this.pos += 8;
          break;
        case K_BOOL:
          this.ensure(1);
          this.buf[this.pos++] = v ? 0x09 : 0x08;
          break;
        case K_DATE:
          this.ensure(9);
          this.buf[this.pos++] = 0x33;
          this.view.setFloat64(this.pos, ((v as number) - APPLE_EPOCH_MS) / 1000);
          this.pos += 8;
          break;
        case K_DATA: {
          const d = v as Uint8Array;
          this.header(0x4, d.length);
          this.ensure(d.length);
          this.buf.set(d, this.pos);
          this.pos += d.length;
          break;
        }
        case K_UID: {
          const u = v as number;
          const size = sizeFor(u);
          this.ensure(9);
          this.buf[this.pos++] = 0x80 | (size - 1);
          this.uint(u, size);
          break;
        }
        default: {
          const refs = f.children[id]!;
          const dict = f.kinds[id] === K_DICT;
          this.header(dict ? 0xd : 0xa, dict ? refs.length / 2 : refs.length);
          this.ensure(refs.length * refSize);
          const b = this.buf;
          let p = this.pos;
          if (refSize === 1) {
            for (let i = 0; i < refs.length; i++) b[p++] = refs[i]!;
          } else if (refSize === 2) {
            for (let i = 0; i < refs.length; i++) {
              const r = refs[i]!;
              b[p++] = r >> 8;
              b[p++] = r & 0xff;
            }
          } else {
            this.pos = p;
            for (const r of refs) this.uint(r, refSize);
            p = this.pos;
          }
          this.pos = p;
        }
      }
    }
    const tableOffset = this.pos;
    this.ensure(n * offsetSize + 32);
    for (const o of offsets) this.uint(o, offsetSize);
    const b = this.buf;
    const t = this.pos;
    b.fill(0, t, t + 6);
    b[t + 6] = offsetSize;
    b[t + 7] = refSize;
    this.pos = t + 8;
    this.uint(n, 8);
    this.uint(0, 8);
    this.uint(tableOffset, 8);
    return this.pos === this.buf.length ? this.buf : this.buf.slice(0, this.pos);
  }

  private ascii(s: string): void {
    const len = s.length;
    this.header(0x5, len);
    this.ensure(len);
    const b = this.buf;
    let p = this.pos;
    if (len > 64) {
      this.pos += Buffer.from(b.buffer, b.byteOffset, b.byteLength).write(s, p, 'latin1');
      return;
    }
    for (let i = 0; i < len; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  private utf16(s: string): void {
    const len = s.length;
    this.header(0x6, len);
    this.ensure(len * 2);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      b[p++] = c >> 8;
      b[p++] = c & 0xff;
    }
    this.pos = p;
  }
}
