// Differential tests against python's plistlib: what we write, plistlib reads to the same value, and
// what plistlib writes, we read to the same value, in both formats. Values are compared in a tagged
// form that keeps every type apart (integer vs real, -0.0, NaN bits, dates, data, UIDs).
import { requirePeer } from '@mdmkit/test-support';
import {
  buildBinary,
  buildXml,
  buildXmlBytes,
  type PlistDict,
  PlistParseError,
  type PlistValue,
  parse,
  parseBinary,
  real,
  uid,
} from '@mdmkit/plist';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  answerData,
  answerValue,
  normalise,
  type PeerAnswer,
  type PeerRequest,
  plistlib,
  type Tagged,
  tag,
} from './support/tagged';

const ok = requirePeer(
  { name: 'python3', probe: ['python3', '-c', 'import plistlib'] },
  'plistlib differential tests',
);
const RUNS = Number(process.env.MDMKIT_DIFF_RUNS ?? 250);
const SEED = Number(process.env.MDMKIT_DIFF_SEED ?? Date.now() % 2 ** 31);

type Format = 'xml' | 'binary';

// Code points from every plane, without the ones XML 1.0 cannot carry (those come from `awkward`, so
// that most documents stay writable as XML); fast-check's 'binary' unit is slow.
const plainCodePoint = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7f }),
  fc.constantFrom(0x09, 0x0a, 0x0d),
  fc.integer({ min: 0x80, max: 0xd7ff }),
  fc.integer({ min: 0xe000, max: 0xfffd }),
  fc.integer({ min: 0x10000, max: 0x10ffff }),
);
// C0 controls, U+FFFE/U+FFFF and lone surrogates: plistlib cannot carry these in XML (nor lone
// surrogates in binary), and nothing is filtered out, so both sides' verdicts are compared.
const awkward = fc.constantFrom(
  0x00,
  0x01,
  0x08,
  0x0b,
  0x0c,
  0x0e,
  0x1f,
  0xd800,
  0xdbff,
  0xdc00,
  0xdfff,
  0xfffe,
  0xffff,
);
const codePoints = (unit: fc.Arbitrary<number>) =>
  fc.array(unit, { maxLength: 20 }).map((cps) => String.fromCodePoint(...cps));
const anyString = fc.oneof(
  { weight: 6, arbitrary: codePoints(plainCodePoint) },
  { weight: 1, arbitrary: codePoints(fc.oneof({ weight: 4, arbitrary: plainCodePoint }, awkward)) },
);

/** Whether `s` holds a surrogate that is not part of a pair (encodeURIComponent refuses exactly those). */
function hasLoneSurrogate(s: string): boolean {
  try {
    encodeURIComponent(s);
    return false;
  } catch {
    return true;
  }
}

function someString(t: Tagged, test: (s: string) => boolean): boolean {
  switch (t.t) {
    case 's':
      return test(t.v);
    case 'a':
      return t.v.some((x) => someString(x, test));
    case 'o':
      return t.v.some(([k, x]) => test(k) || someString(x, test));
    default:
      return false;
  }
}

/** What plistlib's XML writer makes of a value: it turns CR LF and CR into LF, in keys and strings. */
function plistlibXmlText(t: Tagged): Tagged {
  const lf = (s: string) => s.replace(/\r\n?/g, '\n');
  switch (t.t) {
    case 's':
      return { t: 's', v: lf(t.v) };
    case 'a':
      return { t: 'a', v: t.v.map(plistlibXmlText) };
    case 'o':
      return { t: 'o', v: t.v.map(([k, x]) => [lf(k), plistlibXmlText(x)] as [string, Tagged]) };
    default:
      return t;
  }
}

/** Our XML, or `undefined` where buildXml refuses a string XML 1.0 cannot carry. */
function ourXml(v: PlistValue): Uint8Array | undefined {
  try {
    return buildXmlBytes(v);
  } catch (e) {
    if (e instanceof PlistParseError && e.code === 'NOT_REPRESENTABLE_IN_XML') return undefined;
    throw e;
  }
}

function valueArb(format: Format): fc.Arbitrary<PlistValue> {
  const str = fc.oneof(
    anyString,
    fc.string({ maxLength: 20 }),
    fc.constantFrom('', ' a ', '<&>"\'', ']]>', 'cr\r', 'crlf\r\n'),
  );
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
    it(`${format}: random values, both directions, with the same verdicts`, () => {
      const values = fc.sample(valueArb(format), { numRuns: RUNS, seed: SEED + (format === 'xml' ? 0 : 1) });
      const ours = values.map((v) => (format === 'xml' ? ourXml(v) : buildBinary(v)));
      const requests: PeerRequest[] = [];
      values.forEach((v, i) => {
        requests.push({ op: 'read', data: ours[i] ?? new Uint8Array(0) });
        requests.push({ op: 'write', fmt: format, value: tag(v) });
        requests.push({ op: 'carry', fmt: format, value: tag(v) });
      });
      const answers = plistlib(requests);
      let refused = 0;
      for (let i = 0; i < values.length; i++) {
        const at = () => `${format} #${i} (seed ${SEED})`;
        const expected = tag(values[i]!);
        const [read, written, carried] = answers.slice(3 * i, 3 * i + 3) as [
          PeerAnswer,
          PeerAnswer,
          PeerAnswer,
        ];
        const lone = someString(expected, hasLoneSurrogate);
        if (format === 'xml') {
          // We refuse exactly what plistlib cannot carry through XML (it fails to write it, or to read
          // back what it wrote).
          expect(
            ours[i] === undefined,
            `buildXml refused ${at()}: plistlib says ${carried.ok || carried.error}`,
          ).toBe(!carried.ok);
        } else {
          // The binary format carries everything; plistlib cannot encode lone surrogates.
          expect(carried.ok, `plistlib carrying ${at()}`).toBe(!lone);
          same(tag(parse(ours[i]!)), expected, () => `our own binary round trip ${at()}`);
        }
        if (!carried.ok) {
          refused++;
          if (format === 'binary') expect(read.ok, `plistlib reading our ${at()}`).toBe(false);
          if (written.ok) {
            // plistlib wrote XML its own reader rejects (U+FFFE, U+FFFF): ours reads it.
            same(
              tag(parse(Buffer.from(written.data!, 'base64'))),
              plistlibXmlText(expected),
              () => `reading plistlib's ${at()}`,
            );
          }
          continue;
        }
        if (!read.ok) throw new Error(`plistlib could not read our ${at()}: ${read.error}`);
        same(read.value!, expected, () => `plistlib reading our ${at()}`);
        if (!written.ok) throw new Error(`plistlib could not write ${at()}: ${written.error}`);
        const theirs = tag(parse(Buffer.from(written.data!, 'base64')));
        same(
          theirs,
          format === 'xml' ? plistlibXmlText(expected) : expected,
          () => `reading plistlib's ${at()}`,
        );
      }
      // Both verdicts were exercised.
      expect(refused).toBeGreaterThan(0);
      expect(refused).toBeLessThan(values.length);
    });
  }

  it('strings XML 1.0 cannot carry: refused by both in XML, kept by our binary format', () => {
    const strings = [
      '\u0000',
      'a\u0001',
      '\u000b',
      '\u001f',
      '\ufffe',
      '\uffff',
      '\ud800',
      'x\udfff',
      '\udc00\ud800',
    ];
    const requests: PeerRequest[] = [];
    for (const s of strings) {
      const v = { [s]: [s] };
      requests.push({ op: 'carry', fmt: 'xml', value: tag(v) });
      requests.push({ op: 'carry', fmt: 'binary', value: tag(v) });
      requests.push({ op: 'read', data: buildBinary(v) });
    }
    const answers = plistlib(requests);
    strings.forEach((s, i) => {
      const v = { [s]: [s] };
      expect(ourXml(v)).toBeUndefined();
      expect(answers[3 * i]!.ok).toBe(false);
      expect(parseBinary(buildBinary(v))).toEqual(v);
      const lone = hasLoneSurrogate(s);
      expect(answers[3 * i + 1]!.ok).toBe(!lone);
      expect(answers[3 * i + 2]!.ok).toBe(!lone);
      if (!lone)
        same(
          answerValue(answers[3 * i + 2]),
          tag(v),
          () => `plistlib reading our binary ${JSON.stringify(s)}`,
        );
    });
  });

  it('dictionary order survives both directions', () => {
    const v: PlistValue = { zeta: 1, alpha: { y: 'b', x: 'a' }, mid: [{ b: 1, a: 2 }] };
    const answers = plistlib([
      { op: 'read', data: buildXmlBytes(v) },
      { op: 'read', data: buildBinary(v) },
      { op: 'write', fmt: 'xml', value: tag(v) },
      { op: 'write', fmt: 'binary', value: tag(v) },
    ]);
    const order = (t: Tagged) => JSON.stringify(t);
    expect(order(answerValue(answers[0]))).toBe(order(tag(v)));
    expect(order(answerValue(answers[1]))).toBe(order(tag(v)));
    expect(Object.keys(parse(answerData(answers[2])) as PlistDict)).toEqual(['zeta', 'alpha', 'mid']);
    expect(order(tag(parse(answerData(answers[3]))))).toBe(order(tag(v)));
  });

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
