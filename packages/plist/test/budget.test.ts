// A small binary document must not allocate without bound: every reference to a shared object
// materialises a new value, so the reader keeps a budget of bytes materialised. Inputs are plain
// Uint8Arrays, the form a WHATWG request body has.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  buildBinary,
  convert,
  defaultLimits,
  PlistParseError,
  type PlistValue,
  parse,
  parseBinary,
} from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';
import { arrayObject, asciiObject, bplist, dataObject, dictObject, marker } from './support/bplist';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Memory grown while parsing, with the parsed value still held when it succeeds (garbage included:
 * nothing is collected before the second reading).
 */
function growth(doc: Uint8Array): { bytes: number; error?: PlistParseError } {
  gc();
  const before = used();
  try {
    const value = parseBinary(doc);
    const bytes = used() - before;
    expect(value).toBeDefined();
    return { bytes };
  } catch (e) {
    if (!(e instanceof PlistParseError)) throw e;
    return { bytes: used() - before, error: e };
  }
}

/** An array at the top holding `count` references to object 1, followed by `rest` (objects 1 …). */
function fanOut(count: number, rest: Uint8Array[], refSize = 1): Uint8Array {
  return bplist([arrayObject(new Array(count).fill(1), refSize), ...rest], refSize);
}

const real = Uint8Array.from([0x23, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]); // 0.5
const date = Uint8Array.from([0x33, 0x41, 0xc0, 0, 0, 0, 0, 0, 0]);
const big = Uint8Array.from([0x13, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const uidObject = Uint8Array.from([0x80, 0x07]);
const trueObject = Uint8Array.from([0x09]);

/** Object 0 holds `fan` references to object 1, which holds `fan` to object 2, … `depth` levels. */
function laughs(fan: number, depth: number): Uint8Array {
  const objects: Uint8Array[] = [];
  for (let i = 0; i < depth; i++) objects.push(arrayObject(new Array(fan).fill(i + 1), 2));
  objects.push(trueObject);
  return bplist(objects, 2);
}

/** A dict of `keys` distinct keys, all mapping to `true`, as object 1 of a fan-out. */
function wideDict(keys: number): Uint8Array[] {
  const keyRefs = Array.from({ length: keys }, (_, i) => 3 + i);
  return [
    dictObject(keyRefs, new Array(keys).fill(2), 1),
    trueObject,
    ...keyRefs.map((_, i) => asciiObject(`key${i}`)),
  ];
}

describe('binary byte budget', () => {
  it('stops a 46 KB document that refers 30,000 times to one 16 KiB data object', () => {
    const doc = fanOut(30_000, [dataObject(16 * 1024)], 1);
    expect(doc.length).toBeLessThan(47_000);
    expect(Buffer.isBuffer(doc)).toBe(false);
    const { bytes, error } = growth(doc);
    expect(error?.code).toBe('LIMIT_EXCEEDED');
    expect(error?.message).toMatch(/budget/);
    expect(bytes).toBeLessThan(16 * MiB);
  });

  // Each shape is the worst of its kind that fits in about 1 MB; none may grow memory past 80 MiB. The
  // growth counts the garbage left while filling containers, which differs between V8 versions: the
  // largest seen is 36 MiB on Node 20 and 70 MiB on Node 24 (64-bit integers); before the budget, a
  // 46 KB document grew it by 0.5 GB.
  const shapes: [string, () => Uint8Array][] = [
    ['16 KiB data, 1M references', () => fanOut(1_000_000 - 17_000, [dataObject(16 * 1024)])],
    ['empty data, 1M references', () => fanOut(1_000_000, [dataObject(0)])],
    ['empty dict, 1M references', () => fanOut(1_000_000, [Uint8Array.from([0xd0])])],
    ['empty array, 1M references', () => fanOut(1_000_000, [Uint8Array.from([0xa0])])],
    ['dict of 200 keys, 1M references', () => fanOut(997_000, wideDict(200))],
    ['real, 1M references', () => fanOut(1_000_000, [real])],
    ['date, 1M references', () => fanOut(1_000_000, [date])],
    ['64-bit integer, 1M references', () => fanOut(1_000_000, [big])],
    ['UID, 1M references', () => fanOut(1_000_000, [uidObject])],
    ['16 KiB string, 1M references', () => fanOut(1_000_000 - 17_000, [asciiObject('s'.repeat(16 * 1024))])],
    ['nested arrays, 4,000 × 120 levels', () => laughs(4000, 120)],
    ['nested arrays, 255 × 20 levels', () => laughs(255, 20)],
  ];
  it.each(shapes)('%s stays under 80 MiB', (_name, make) => {
    const doc = make();
    expect(doc.length).toBeLessThanOrEqual(1_000_100);
    const started = performance.now();
    const { bytes, error } = growth(doc);
    expect(error === undefined || error.code === 'LIMIT_EXCEEDED').toBe(true);
    expect(bytes).toBeLessThan(80 * MiB);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  // A string is decoded once and shared, but every reference is a value of that length to whoever
  // writes it out (buildXml, JSON, convert): 2,000 references to one 500 KB string are 1 GB of text.
  it.each([
    ['value', () => fanOut(2000, [asciiObject('s'.repeat(500_000))], 2)],
    [
      'dictionary key',
      () => fanOut(2000, [dictObject([2], [3], 2), asciiObject('k'.repeat(500_000)), trueObject], 2),
    ],
  ])('charges a shared string %s for its length at every reference', (_name, make) => {
    const doc = make();
    expect(doc.length).toBeLessThan(510_000);
    expect(() => parseBinary(doc)).toThrowError(expect.objectContaining({ code: 'LIMIT_EXCEEDED' }));
    expect(() => convert(doc, { to: 'xml' })).toThrowError(PlistParseError);
  });

  it('is a configurable multiple of the document size with a floor', () => {
    expect(defaultLimits.maxExpansion).toBe(32);
    expect(defaultLimits.minExpansionBytes).toBe(4 * MiB);
    // 2,000 references to one 1 KiB data object: about 2 MiB materialised from a 3 KB document.
    const doc = fanOut(2000, [dataObject(1024)], 1);
    expect((parseBinary(doc) as PlistValue[]).length).toBe(2000);
    expect(() => parseBinary(doc, { limits: { minExpansionBytes: 1 * MiB } })).toThrowError(
      expect.objectContaining({ code: 'LIMIT_EXCEEDED' }),
    );
    const bigger = { limits: { minExpansionBytes: 0, maxExpansion: 1000 } };
    expect((parseBinary(doc, bigger) as PlistValue[]).length).toBe(2000);
    expect(() => parseBinary(doc, { limits: { minExpansionBytes: 0, maxExpansion: 100 } })).toThrowError(
      expect.objectContaining({ code: 'LIMIT_EXCEEDED' }),
    );
  });

  it('leaves ordinary documents, shared scalars included, well inside the budget', () => {
    const apps = Array.from({ length: 2000 }, (_, i) => ({
      Identifier: `com.example.app${i}`,
      Name: `App ${i}`,
      Version: '1.0',
      IsValidated: true,
      BundleSize: 123_456_789,
      Icon: new Uint8Array(64),
    }));
    const doc = new Uint8Array(buildBinary({ InstalledApplicationList: apps }));
    expect(parse(doc)).toEqual({ InstalledApplicationList: apps });
  });
});

describe('data values', () => {
  // [data, data], both references to one data object.
  const shared = () => bplist([arrayObject([1, 1], 1), dataObject(4)], 1);

  it.each([
    ['Uint8Array', (b: Uint8Array) => b],
    ['Buffer', (b: Uint8Array) => Buffer.from(b)],
  ])('from a %s input are fresh Uint8Arrays that alias nothing', (_name, wrap) => {
    const input = wrap(shared());
    const copyOfInput = Uint8Array.from(input);
    const [a, b] = parseBinary(input) as Uint8Array[];
    for (const d of [a!, b!]) {
      expect(Object.getPrototypeOf(d) === Uint8Array.prototype).toBe(true);
      expect(d.byteOffset).toBe(0);
      expect(d.buffer.byteLength).toBe(4);
      expect(d.buffer).not.toBe(input.buffer);
    }
    a![0] = 0x7a;
    expect(b![0]).toBe(0x41);
    expect(Buffer.compare(input, copyOfInput)).toBe(0);
  });

  it('from XML are plain Uint8Arrays too', () => {
    const d = parse(Buffer.from('<plist><data>AAEC</data></plist>')) as Uint8Array;
    expect(Object.getPrototypeOf(d) === Uint8Array.prototype).toBe(true);
    expect(d.buffer.byteLength).toBe(3);
  });
});

// Keeps the marker helper honest for counts past one byte.
it('marker writes long counts', () => {
  expect(marker(0xa, 70_000)).toEqual([0xaf, 0x12, 0, 1, 0x11, 0x70]);
});
