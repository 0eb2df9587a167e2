// Differential tests against python's plistlib: what we write, plistlib reads to the same value, and
// what plistlib writes, we read to the same value, in both formats. Values are compared in a tagged
// form that keeps every type apart (integer vs real, -0.0, NaN bits, dates, data, UIDs).
import { requirePeer } from '@mdmkit/test-support';
import { buildBinary, buildXml, type PlistDict, type PlistValue, parse, real, uid } from '@mdmkit/plist';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalise, type PeerRequest, plistlib, type Tagged, tag } from './support/tagged';

const ok = requirePeer(
  { name: 'python3', probe: ['python3', '-c', 'import plistlib'] },
  'plistlib differential tests',
);
const RUNS = Number(process.env.MDMKIT_DIFF_RUNS ?? 250);
const SEED = Number(process.env.MDMKIT_DIFF_SEED ?? Date.now() % 2 ** 31);

type Format = 'xml' | 'binary';

// XML 1.0 cannot carry most control characters or U+FFFE/U+FFFF, and plistlib turns CR into LF when
// writing; the binary format carries any string plistlib can encode.
const xmlSafe = (s: string) => !/[\u0000-\u0008\u000b-\u001f\ufffe\uffff]/.test(s);

// Any code point but lone surrogates (plistlib cannot encode those); fast-check's 'binary' unit is slow.
const anyCodePoints = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0xffff }),
      fc.integer({ min: 0x10000, max: 0x10ffff }),
    ),
    { maxLength: 20 },
  )
  .map((cps) => String.fromCodePoint(...cps.filter((c) => c < 0xd800 || c > 0xdfff)));

function valueArb(format: Format): fc.Arbitrary<PlistValue> {
  const str = fc
    .oneof(anyCodePoints, fc.string({ maxLength: 20 }), fc.constantFrom('', ' a ', '<&>"\'', ']]>'))
    .filter((s) => format === 'binary' || xmlSafe(s));
  const key = fc.oneof(str, fc.constantFrom('__proto__', 'constructor', 'toString', '1', 'CF$UID'));
  const int = fc.oneof(
    fc.integer(),
    fc.maxSafeInteger(),
    fc.constantFrom(
      0,
      -1,
      255,
      256,
      65535,
      65536,
      2 ** 32 - 1,
      2 ** 32,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ),
    fc
      .bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n })
      .map((b) => (Number.isSafeInteger(Number(b)) ? Number(b) : b)),
    fc.constantFrom(2n ** 64n - 1n, 2n ** 63n, 2n ** 63n - 1n, -(2n ** 63n)),
  );
  const dbl = fc.oneof(fc.double(), fc.constantFrom(-0, NaN, Infinity, -Infinity, 0.1, 1e300, 5e-324));
  const realArb = fc.oneof(
    dbl.map((n): PlistValue => (Number.isSafeInteger(n) && !Object.is(n, -0) ? real(n) : n)),
    fc.integer().map(real),
  );
  // plistlib handles years 1 … 9999; XML carries whole seconds.
  const date = fc
    .integer({ min: -62135596800000, max: 253402300799000 })
    .map((ms) => new Date(format === 'xml' ? Math.floor(ms / 1000) * 1000 : ms));
  const scalars: fc.Arbitrary<PlistValue>[] = [
    str,
    int,
    realArb,
    fc.boolean(),
    date,
    fc.uint8Array({ maxLength: 40 }),
  ];
  if (format === 'binary') scalars.push(fc.nat({ max: 2 ** 40 }).map(uid));
  const scalar = fc.oneof(...scalars);
  const { value } = fc.letrec<{ value: PlistValue; array: PlistValue[]; dict: PlistDict }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('dict')),
    array: fc.array(tie('value'), { maxLength: 6 }),
    dict: fc.array(fc.tuple(key, tie('value')), { maxLength: 6 }).map((pairs) => {
      const d: PlistDict = {};
      for (const [k, v] of pairs)
        Object.defineProperty(d, k, { value: v, enumerable: true, writable: true, configurable: true });
      return d;
    }),
  }));
  return value;
}

function same(actual: Tagged, expected: Tagged, context: () => string): void {
  const a = normalise(actual);
  const e = normalise(expected);
  if (JSON.stringify(a) !== JSON.stringify(e)) {
    expect(a, `${context()} (seed ${SEED})`).toEqual(e);
  }
}

describe.skipIf(!ok)('differential against python plistlib', () => {
  for (const format of ['xml', 'binary'] as const) {
    it(`${format}: random values, both directions`, () => {
      const values = fc.sample(valueArb(format), { numRuns: RUNS, seed: SEED + (format === 'xml' ? 0 : 1) });
      const build = format === 'xml' ? (v: PlistValue) => new TextEncoder().encode(buildXml(v)) : buildBinary;
      const requests: PeerRequest[] = [];
      for (const v of values) {
        requests.push({ op: 'read', data: build(v) });
        requests.push({ op: 'write', fmt: format, value: tag(v) });
      }
      const answers = plistlib(requests);
      for (let i = 0; i < values.length; i++) {
        const expected = tag(values[i]!);
        const read = answers[2 * i]!;
        if (!read.ok)
          throw new Error(`plistlib could not read our ${format}: ${read.error} (seed ${SEED}, #${i})`);
        same(read.value!, expected, () => `plistlib reading our ${format} #${i}`);
        const written = answers[2 * i + 1]!;
        if (!written.ok) throw new Error(`plistlib could not write #${i}: ${written.error} (seed ${SEED})`);
        const ours = parse(Buffer.from(written.data!, 'base64'));
        same(tag(ours), expected, () => `reading plistlib's ${format} #${i}`);
      }
    });
  }

  it('edge values, both formats, both directions', () => {
    const edge: PlistValue[] = [
      0,
      -0,
      real(0),
      real(1),
      real(-1),
      NaN,
      Infinity,
      -Infinity,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      0.1,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      2 ** 53,
      2n ** 64n - 1n,
      2n ** 63n,
      -(2n ** 63n),
      '',
      'ascii',
      'é',
      '\u{1F600}',
      'x'.repeat(1000),
      '€'.repeat(500),
      ' leading and trailing ',
      '\ttab\nnewline',
      new Date(Date.UTC(2001, 0, 1)),
      new Date(Date.UTC(1, 0, 1)),
      new Date(Date.UTC(9999, 11, 31, 23, 59, 59)),
      new Date(Date.UTC(1969, 11, 31, 23, 59, 59)),
      new Uint8Array(0),
      new Uint8Array(1000).map((_, i) => i * 7),
      [],
      {},
      [[[[[]]]]],
      { a: { b: { c: {} } } },
      Array.from({ length: 300 }, (_, i) => i * 1000),
      Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, i % 2 === 0 ? `v${i}` : real(i)])),
    ];
    const requests: PeerRequest[] = [];
    for (const v of edge) {
      requests.push({ op: 'read', data: new TextEncoder().encode(buildXml(v)) });
      requests.push({ op: 'read', data: buildBinary(v) });
      requests.push({ op: 'write', fmt: 'xml', value: tag(v) });
      requests.push({ op: 'write', fmt: 'binary', value: tag(v) });
    }
    const answers = plistlib(requests);
    edge.forEach((v, i) => {
      const expected = tag(v);
      for (let j = 0; j < 4; j++) {
        const a = answers[4 * i + j]!;
        if (!a.ok) throw new Error(`#${i}/${j}: ${a.error}`);
        if (j < 2) same(a.value!, expected, () => `plistlib reading ours #${i}/${j}`);
        else
          same(tag(parse(Buffer.from(a.data!, 'base64'))), expected, () => `reading plistlib's #${i}/${j}`);
      }
    });
  });

  it('hand-written XML documents read the same by both', () => {
    const docs = [
      '<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>a</key><integer>0x10</integer></dict></plist>',
      '<plist version="1.0"><array><string>a&lt;b&#x41;&#66;<![CDATA[<x>]]></string><!-- c --><data>\n  AAEC\n  AwQ=\n</data></array></plist>',
      '<?xml version="1.0"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0"><dict><key>d</key><date>2020-02-29T12:00:00Z</date><key>r</key><real>1.0</real><key>e</key><real>1E-5</real></dict></plist>',
      '<plist version="1.0"><dict><key> spaced key </key><string>  spaced value  </string><key>n</key><integer>-9223372036854775808</integer></dict></plist>',
      '\ufeff<?xml version="1.0" encoding="utf-8"?><plist version="1.0"><dict/></plist>',
      '<plist version="1.0"><array><true/><false/><real>-0.0</real><real>nan</real><real>inf</real><real>-inf</real></array></plist>',
    ];
    const bytes = docs.map((d) => new TextEncoder().encode(d));
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(docs[0]!.replace('UTF-8', 'UTF-16'), 'utf16le'),
    ]);
    bytes.push(utf16);
    const answers = plistlib(bytes.map((data) => ({ op: 'read', data })));
    bytes.forEach((b, i) => {
      const a = answers[i]!;
      if (!a.ok) throw new Error(`plistlib rejected doc #${i}: ${a.error}`);
      same(tag(parse(b)), a.value!, () => `doc #${i}`);
    });
  });
});
