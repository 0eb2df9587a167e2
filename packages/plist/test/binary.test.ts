import {
  buildBinary,
  type PlistDict,
  PlistParseError,
  PlistReal,
  PlistUid,
  type PlistValue,
  parse,
  parseBinary,
  real,
  uid,
} from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';

/** Assembles a bplist00 from raw object encodings, so malformed documents can be written by hand. */
function assemble(
  objects: number[][],
  o: {
    refSize?: number;
    offsetSize?: number;
    top?: number;
    numObjects?: number;
    tableOffset?: number;
    offsets?: number[];
  } = {},
): Uint8Array {
  const offsetSize = o.offsetSize ?? 1;
  const bytes: number[] = [...Buffer.from('bplist00', 'latin1')];
  const offsets: number[] = [];
  for (const obj of objects) {
    offsets.push(bytes.length);
    bytes.push(...obj);
  }
  const table = bytes.length;
  for (const off of o.offsets ?? offsets) {
    for (let i = offsetSize - 1; i >= 0; i--) bytes.push(Math.floor(off / 256 ** i) & 0xff);
  }
  const be64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(v));
    return [...b];
  };
  bytes.push(0, 0, 0, 0, 0, 0, offsetSize, o.refSize ?? 1);
  bytes.push(...be64(o.numObjects ?? objects.length), ...be64(o.top ?? 0), ...be64(o.tableOffset ?? table));
  return new Uint8Array(bytes);
}

function code(input: Uint8Array, options?: Parameters<typeof parseBinary>[1]): string {
  try {
    parseBinary(input, options);
  } catch (e) {
    expect(e).toBeInstanceOf(PlistParseError);
    return (e as PlistParseError).code;
  }
  throw new Error('expected a PlistParseError');
}

describe('binary round trip', () => {
  it('round-trips every type with its type', () => {
    const v: PlistValue = {
      small: 5,
      u16: 300,
      u32: 70000,
      u64: 2 ** 40,
      neg: -1,
      negBig: -(2 ** 40),
      max: 2n ** 64n - 1n,
      i64max: 2n ** 63n - 1n,
      over: 2n ** 63n,
      min: -(2n ** 63n),
      realInt: real(4),
      negZero: -0,
      frac: 0.1,
      nan: NaN,
      inf: Infinity,
      ascii: 'hello',
      long: 'x'.repeat(100),
      unicode: 'é \u{1F600} \uD800 lone',
      longUnicode: 'ü'.repeat(40),
      date: new Date('2021-06-01T12:34:56.789Z'),
      preEpoch: new Date('1900-01-01T00:00:00Z'),
      data: new Uint8Array(300).map((_, i) => i & 0xff),
      empty: new Uint8Array(0),
      uid: uid(70000),
      arr: [true, false, [], {}, ''],
      __proto__x: 'y',
    };
    const back = parseBinary(buildBinary(v)) as PlistDict;
    expect(back).toEqual(v);
    expect(Object.is(back.negZero, -0)).toBe(true);
    expect(back.realInt).toBeInstanceOf(PlistReal);
    expect(back.uid).toBeInstanceOf(PlistUid);
    expect(parse(buildBinary(v))).toEqual(v);
  });

  it('sets __proto__ as an own key', () => {
    const d: PlistDict = {};
    Object.defineProperty(d, '__proto__', {
      value: { polluted: true },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    const back = parseBinary(buildBinary(d)) as PlistDict;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('de-duplicates equal scalars and shared containers', () => {
    const shared = { k: 'v' };
    const many = Array.from({ length: 1000 }, () => 'same string');
    const bytes = buildBinary({ a: shared, b: shared, many });
    // 1 root + keys a, b, many + shared dict + its key and value + array + one string.
    expect(bytes.length).toBeLessThan(1000 + 200);
    const back = parseBinary(bytes) as { a: PlistDict; b: PlistDict };
    expect(back.a).toEqual(shared);
    expect(back.a).not.toBe(back.b); // separate values, so mutating one cannot change the other
  });

  it('writes large documents (4-byte offsets, long strings, big data)', () => {
    const v = {
      s: 'x'.repeat(70_000),
      u: '€'.repeat(40_000),
      d: new Uint8Array(100_000).fill(7),
      a: Array.from({ length: 70_000 }, (_, i) => i),
    };
    const bytes = buildBinary(v);
    expect(bytes[bytes.length - 32 + 6]).toBe(4);
    expect(bytes[bytes.length - 32 + 7]).toBe(4);
    expect(parseBinary(bytes)).toEqual(v);
  });

  it('chooses 2-byte references and offsets when needed', () => {
    const v = Array.from({ length: 300 }, (_, i) => `s${i}`);
    const bytes = buildBinary(v);
    const t = bytes.length - 32;
    expect(bytes[t + 6]).toBe(2); // offsets above 255
    expect(bytes[t + 7]).toBe(2); // 301 objects
    expect(parseBinary(bytes)).toEqual(v);
  });

  it('decodes an 8-byte ref/offset document and a 16-byte integer written by hand', () => {
    const doc = assemble(
      [
        [0xa1, 0, 0, 0, 0, 0, 0, 0, 1],
        [0x14, ...new Array(8).fill(0), ...new Array(8).fill(0xff)],
      ],
      {
        refSize: 8,
        offsetSize: 8,
      },
    );
    expect(parseBinary(doc)).toEqual([2n ** 64n - 1n]);
  });

  it('reads 1/2/4-byte integers as unsigned, 8-byte as signed, float32 reals', () => {
    expect(parseBinary(assemble([[0x10, 0xff]]))).toBe(255);
    expect(parseBinary(assemble([[0x12, 0xff, 0xff, 0xff, 0xff]]))).toBe(2 ** 32 - 1);
    expect(parseBinary(assemble([[0x13, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]]))).toBe(-2);
    expect(parseBinary(assemble([[0x22, 0x3f, 0xc0, 0, 0]]))).toBe(1.5);
    expect(parseBinary(assemble([[0x22, 0x3f, 0x80, 0, 0]]), { reals: 'number' })).toBe(1);
  });

  it('rounds dates to the millisecond', () => {
    const b = Buffer.alloc(9);
    b[0] = 0x33;
    b.writeDoubleBE(0.0004567, 1);
    expect((parseBinary(assemble([[...b]])) as Date).getTime()).toBe(978307200000);
  });
});

describe('binary errors', () => {
  const ok = assemble([
    [0xa1, 1],
    [0x51, 0x61],
  ]);

  it('accepts the hand-made baseline', () => {
    expect(parseBinary(ok)).toEqual(['a']);
  });

  it.each<[string, () => Uint8Array, string]>([
    ['bad magic', () => new Uint8Array([...Buffer.from('bplist01'), ...ok.subarray(8)]), 'INVALID_BINARY'],
    ['too short', () => ok.subarray(0, 20), 'TRUNCATED'],
    ['truncated object', () => assemble([[0x5f, 0x10, 0x20, 0x61]]), 'TRUNCATED'],
    ['truncated integer', () => assemble([[0x13, 1, 2]]), 'TRUNCATED'],
    ['offset size 0', () => assemble([[0x09]], { offsetSize: 0 }), 'INVALID_BINARY'],
    ['ref size 9', () => assemble([[0x09]], { refSize: 9 }), 'INVALID_BINARY'],
    ['top out of range', () => assemble([[0x09]], { top: 1 }), 'OFFSET_OUT_OF_RANGE'],
    ['table past end', () => assemble([[0x09]], { numObjects: 1000 }), 'OFFSET_OUT_OF_RANGE'],
    ['huge object count', () => assemble([[0x09]], { numObjects: 2 ** 60 }), 'OFFSET_OUT_OF_RANGE'],
    ['offset into trailer', () => assemble([[0x09]], { offsets: [250] }), 'OFFSET_OUT_OF_RANGE'],
    ['offset into header', () => assemble([[0x09]], { offsets: [2] }), 'OFFSET_OUT_OF_RANGE'],
    ['ref out of range', () => assemble([[0xa1, 7]]), 'OFFSET_OUT_OF_RANGE'],
    ['self cycle', () => assemble([[0xa1, 0]]), 'CYCLE'],
    [
      'indirect cycle',
      () =>
        assemble([
          [0xa1, 1],
          [0xd1, 2, 0],
          [0x51, 0x6b],
        ]),
      'CYCLE',
    ],
    ['null', () => assemble([[0x00]]), 'UNSUPPORTED_TYPE'],
    ['fill', () => assemble([[0x0f]]), 'UNSUPPORTED_TYPE'],
    ['set', () => assemble([[0xc0]]), 'UNSUPPORTED_TYPE'],
    ['unknown marker', () => assemble([[0x70]]), 'INVALID_BINARY'],
    [
      'non-string key',
      () =>
        assemble([
          [0xd1, 1, 1],
          [0x10, 1],
        ]),
      'INVALID_KEY',
    ],
    ['32-byte integer', () => assemble([[0x15, ...new Array(32).fill(0)]]), 'INVALID_BINARY'],
    [
      '16-byte integer out of range',
      () => assemble([[0x14, 1, ...new Array(15).fill(0)]]),
      'INTEGER_OUT_OF_RANGE',
    ],
    [
      'array count past end',
      () => assemble([[0xaf, 0x13, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]]),
      'TRUNCATED',
    ],
    ['bad length marker', () => assemble([[0x5f, 0x20, 0x61]]), 'INVALID_BINARY'],
    ['NaN date', () => assemble([[0x33, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]]), 'INVALID_DATE'],
  ])('%s', (_name, make, expected) => {
    expect(code(make())).toBe(expected);
  });

  it('bounds expansion of shared references (binary "billion laughs")', () => {
    // Object i is an array holding object i+1 ten times: 10^20 values from ~250 bytes.
    const objects: number[][] = [];
    for (let i = 0; i < 20; i++) objects.push([0xaa, ...new Array(10).fill(i + 1)]);
    objects.push([0x09]);
    const bomb = assemble(objects);
    const started = Date.now();
    expect(code(bomb)).toBe('LIMIT_EXCEEDED');
    expect(code(bomb, { limits: { maxObjects: 1000 } })).toBe('LIMIT_EXCEEDED');
    expect(Date.now() - started).toBeLessThan(2_000);
    // Sharing that stays within the byte budget is fine.
    const shared = { k: 'v', n: [1, 2, 3] };
    const ok = parseBinary(buildBinary([shared, shared, shared])) as PlistValue[];
    expect(ok).toEqual([shared, shared, shared]);
  });

  it('enforces depth, string and data limits', () => {
    const objects: number[][] = [];
    for (let i = 0; i < 10; i++) objects.push([0xa1, i + 1]);
    objects.push([0x09]);
    expect(code(assemble(objects), { limits: { maxDepth: 5 } })).toBe('LIMIT_EXCEEDED');
    expect(parseBinary(assemble(objects), { limits: { maxDepth: 10 } })).toBeInstanceOf(Array);
    expect(code(buildBinary('abcdef'), { limits: { maxStringLength: 5 } })).toBe('LIMIT_EXCEEDED');
    expect(code(buildBinary(new Uint8Array(10)), { limits: { maxDataLength: 5 } })).toBe('LIMIT_EXCEEDED');
    expect(code(buildBinary('x'), { limits: { maxBytes: 10 } })).toBe('LIMIT_EXCEEDED');
  });

  it('reports the key path', () => {
    const doc = assemble([[0xd1, 1, 2], [0x51, 0x6b], [0xa2, 3, 4], [0x09], [0x00]]);
    try {
      parseBinary(doc);
      expect.unreachable();
    } catch (e) {
      expect((e as PlistParseError).keyPath).toEqual(['k', 1]);
      expect((e as PlistParseError).offset).toBe(8 + 3 + 2 + 3 + 1);
    }
  });

  it('builder rejects cycles and out-of-range values', () => {
    const a: PlistValue[] = [];
    a.push({ x: a });
    expect(() => buildBinary(a)).toThrowError(expect.objectContaining({ code: 'CYCLE' }));
    expect(() => buildBinary(2n ** 64n)).toThrowError(expect.objectContaining({ code: 'INVALID_VALUE' }));
    expect(() => buildBinary(null as unknown as PlistValue)).toThrowError(PlistParseError);
  });
});
