// Fuzzing: mutated and random documents must either parse or fail with PlistParseError, quickly and
// without growing memory by more than the byte budget allows.
// Bounded for CI; run longer with MDMKIT_FUZZ_RUNS=200000 (and MDMKIT_FUZZ_SEED to replay).
import {
  buildBinary,
  buildXml,
  buildXmlBytes,
  isBinaryPlist,
  type PlistValue,
  PlistParseError,
  parse,
  parseBinary,
  parseXml,
  real,
  uid,
} from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';
import { arrayObject, bplist, dataObject } from './support/bplist';
import { normalise, tag } from './support/tagged';

const RUNS = Number(process.env.MDMKIT_FUZZ_RUNS ?? 2500);
const SEED = Number(process.env.MDMKIT_FUZZ_SEED ?? Date.now() % 2 ** 31);
const MiB = 1024 * 1024;
// A smaller budget floor than the default keeps each rejected expansion quick.
const LIMITS = { limits: { maxObjects: 200_000, maxDepth: 200, minExpansionBytes: MiB / 4 } };

/** Small deterministic PRNG (mulberry32) so that a failing seed can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seeds: PlistValue[] = [
  {
    CommandUUID: '0A1B2C3D-0000-4000-8000-000000000001',
    Status: 'Acknowledged',
    UDID: '00008030-001A2B3C4D5E802E',
    QueryResponses: {
      DeviceName: 'iPad <&> "x"',
      OSVersion: '17.4',
      BatteryLevel: 0.87,
      IsSupervised: true,
      AvailableDeviceCapacity: real(52),
      DeviceCapacity: 64,
      Big: 2n ** 64n - 1n,
      Neg: -(2n ** 63n),
      LastCloudBackupDate: new Date('2024-03-01T10:00:00Z'),
      Token: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]),
      Apps: [{ Name: 'Mail', Version: '1.0' }, { Name: 'Notes', Version: '2.1' }, [], {}],
    },
    Weird: [NaN, -0, Infinity, 'é\u{1F600}', ''],
  },
  ['a', 'a', 'a', { x: 'a' }],
  'just a string',
];

const xmlSeeds = seeds.map((v) => new TextEncoder().encode(buildXml(v)));
xmlSeeds.push(
  new TextEncoder().encode(
    '<?xml version="1.0"?><!DOCTYPE plist SYSTEM "x"><plist><!-- c --><array><string>a&amp;&#x41;<![CDATA[z]]>\r\n</string><data>AA\n==</data></array></plist>',
  ),
);
const binSeeds = [...seeds, { u: uid(300), n: Array.from({ length: 300 }, (_, i) => `k${i}`) }].map(
  buildBinary,
);
// 5,000 references to one 4 KiB data object: 9 KB that would materialise 20 MiB.
binSeeds.push(bplist([arrayObject(new Array(5000).fill(1), 1), dataObject(4096)], 1));

const TOKENS = [
  '<dict>',
  '</dict>',
  '<array>',
  '</array>',
  '<key>',
  '</key>',
  '<string>',
  '</string>',
  '<integer>',
  '<real>',
  '<date>',
  '<data>',
  '<true/>',
  '<false/>',
  '<!--',
  '-->',
  '<![CDATA[',
  ']]>',
  '&',
  '&#',
  '&#x',
  ';',
  '<',
  '>',
  '/',
  '"',
  '<!DOCTYPE x [',
  '<?',
  '?>',
  '\r',
  '\u0000',
  '\u00ff',
  '99999999999999999999999',
  'nan',
  '-0.0',
].map((t) => new TextEncoder().encode(t));

function mutate(input: Uint8Array, r: () => number, binary: boolean): Uint8Array {
  const b = [...input];
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * (b.length + 1));
    switch (Math.floor(r() * (binary ? 8 : 7))) {
      case 0:
        if (b.length > 0) b[Math.min(at, b.length - 1)] = Math.floor(r() * 256);
        break;
      case 1:
        b.splice(at, Math.floor(r() * 16));
        break;
      case 2: {
        const from = Math.floor(r() * b.length);
        b.splice(at, 0, ...b.slice(from, from + Math.floor(r() * 64)));
        break;
      }
      case 3:
        b.length = Math.floor(r() * b.length);
        break;
      case 4:
        b.splice(at, 0, ...TOKENS[Math.floor(r() * TOKENS.length)]!);
        break;
      case 5:
        b.splice(at, 0, ...Array.from({ length: Math.floor(r() * 8) }, () => Math.floor(r() * 256)));
        break;
      case 6:
        if (b.length > 0) b[Math.min(at, b.length - 1)]! ^= 1 << Math.floor(r() * 8);
        break;
      default: {
        // Binary: hit the trailer and offset table, where sizes and offsets live.
        const i = b.length - 1 - Math.floor(r() * Math.min(b.length, 48));
        if (i >= 0) b[i] = r() < 0.5 ? Math.floor(r() * 256) : [0, 1, 2, 4, 8, 9, 0xff][Math.floor(r() * 7)]!;
      }
    }
  }
  return new Uint8Array(b);
}

interface Outcome {
  parsed: number;
  rejected: number;
  slowestMs: number;
  /** Largest growth of heap and array buffers over one parse (garbage included). */
  largestGrowth: number;
}

/** Generous against the budget: the heap also grows with V8's own bookkeeping. */
const MAX_GROWTH = 12 * MiB;

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function outcome(): Outcome {
  return { parsed: 0, rejected: 0, slowestMs: 0, largestGrowth: 0 };
}

function check(
  input: Uint8Array,
  fn: (b: Uint8Array) => PlistValue,
  o: Outcome,
  rebuild: (v: PlistValue) => Uint8Array,
): void {
  const before = used();
  const started = performance.now();
  let value: PlistValue;
  try {
    value = fn(input);
    o.largestGrowth = Math.max(o.largestGrowth, used() - before);
  } catch (e) {
    o.largestGrowth = Math.max(o.largestGrowth, used() - before);
    if (!(e instanceof PlistParseError)) {
      throw new Error(
        `non-PlistParseError ${String(e)} (seed ${SEED}) for input ${Buffer.from(input).toString('base64')}`,
      );
    }
    o.rejected++;
    o.slowestMs = Math.max(o.slowestMs, performance.now() - started);
    return;
  }
  o.slowestMs = Math.max(o.slowestMs, performance.now() - started);
  o.parsed++;
  // Whatever parses must write back and read again to the same value.
  const again = JSON.stringify(normalise(tag(fn(rebuild(value)))));
  const first = JSON.stringify(normalise(tag(value)));
  if (again !== first) {
    let i = 0;
    while (again[i] === first[i]) i++;
    throw new Error(
      `value changed on a round trip near ${first.slice(i - 80, i + 80)} vs ${again.slice(i - 80, i + 80)} (seed ${SEED}, input ${Buffer.from(input).toString('base64')})`,
    );
  }
}

describe('fuzz', () => {
  it(`XML: ${RUNS} mutated documents (seed ${SEED})`, () => {
    const r = rng(SEED);
    const o = outcome();
    // The reader is lenient: what it accepts may hold characters XML cannot carry (a raw NUL, `&#1;`),
    // which only the binary format writes back; parse() reads either.
    const read = (b: Uint8Array) => (isBinaryPlist(b) ? parseBinary(b, LIMITS) : parseXml(b, LIMITS));
    const rebuild = (v: PlistValue) => {
      try {
        return buildXmlBytes(v);
      } catch (e) {
        if (e instanceof PlistParseError && e.code === 'NOT_REPRESENTABLE_IN_XML') return buildBinary(v);
        throw e;
      }
    };
    for (let i = 0; i < RUNS; i++) check(mutate(xmlSeeds[i % xmlSeeds.length]!, r, false), read, o, rebuild);
    expect(o.parsed + o.rejected).toBe(RUNS);
    expect(o.rejected).toBeGreaterThan(RUNS / 4);
    expect(o.slowestMs).toBeLessThan(1000);
    expect(o.largestGrowth).toBeLessThan(MAX_GROWTH);
  });

  it(`binary: ${RUNS} mutated documents (seed ${SEED})`, () => {
    const r = rng(SEED + 1);
    const o = outcome();
    const bin = (b: Uint8Array) => parseBinary(b, LIMITS);
    for (let i = 0; i < RUNS; i++)
      check(mutate(binSeeds[i % binSeeds.length]!, r, true), bin, o, buildBinary);
    expect(o.parsed + o.rejected).toBe(RUNS);
    expect(o.rejected).toBeGreaterThan(RUNS / 4);
    expect(o.slowestMs).toBeLessThan(1000);
    expect(o.largestGrowth).toBeLessThan(MAX_GROWTH);
  });

  it(`random bytes through parse() (seed ${SEED})`, () => {
    const r = rng(SEED + 2);
    const o = outcome();
    const any = (b: Uint8Array) => parse(b, LIMITS);
    const magic = new TextEncoder().encode('bplist00');
    for (let i = 0; i < RUNS / 2; i++) {
      const body = Array.from({ length: Math.floor(r() * 120) }, () => Math.floor(r() * 256));
      const input = new Uint8Array(i % 2 === 0 ? [...magic, ...body] : body);
      check(input, any, o, buildBinary);
    }
    expect(o.slowestMs).toBeLessThan(1000);
    expect(o.largestGrowth).toBeLessThan(MAX_GROWTH);
  });
});
