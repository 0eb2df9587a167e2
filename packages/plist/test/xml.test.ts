import {
  buildXml,
  buildXmlBytes,
  type PlistDict,
  PlistParseError,
  PlistReal,
  type PlistValue,
  parse,
  parseXml,
  real,
  uid,
} from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';

const wrap = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n${body}\n</plist>\n`;

function err(input: string | Uint8Array, options?: Parameters<typeof parseXml>[1]): PlistParseError {
  try {
    parseXml(input, options);
  } catch (e) {
    expect(e).toBeInstanceOf(PlistParseError);
    return e as PlistParseError;
  }
  throw new Error('expected a PlistParseError');
}

describe('parseXml values', () => {
  it('reads every scalar type', () => {
    const v = parseXml(
      wrap(`<dict>
  <key>s</key><string>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#65;&#x42;&#x1F600;</string>
  <key>i</key><integer>-42</integer>
  <key>big</key><integer>18446744073709551615</integer>
  <key>neg</key><integer>-9223372036854775808</integer>
  <key>hex</key><integer>0x1F</integer>
  <key>r</key><real>1.25</real>
  <key>ri</key><real>3</real>
  <key>t</key><true/>
  <key>f</key><false></false>
  <key>d</key><date>2024-02-29T23:59:58Z</date>
  <key>data</key><data>
    AAEC
    /w==
  </data>
  <key>empty</key><string/>
  <key>a</key><array><integer>1</integer><array/><dict/></array>
</dict>`),
    ) as PlistDict;
    expect(v.s).toBe(`a <b> & "c" 'd' AB\u{1F600}`);
    expect(v.i).toBe(-42);
    expect(v.big).toBe(2n ** 64n - 1n);
    expect(v.neg).toBe(-(2n ** 63n));
    expect(v.hex).toBe(31);
    expect(v.r).toBe(1.25);
    expect(v.ri).toEqual(new PlistReal(3));
    expect(v.t).toBe(true);
    expect(v.f).toBe(false);
    expect((v.d as Date).toISOString()).toBe('2024-02-29T23:59:58.000Z');
    expect(v.data).toEqual(new Uint8Array([0, 1, 2, 0xff]));
    expect(v.empty).toBe('');
    expect(v.a).toEqual([1, [], {}]);
  });

  it('keeps reals exact: special values, -0.0, integral reals', () => {
    const reals = [
      'nan',
      'NaN',
      'inf',
      '+inf',
      '-inf',
      'infinity',
      '+infinity',
      '-infinity',
      '-0.0',
      '1e3',
      '.5',
      '5.',
    ];
    const got = reals.map((r) => parseXml(`<real>${r}</real>`));
    expect(got[0]).toBeNaN();
    expect(got[1]).toBeNaN();
    expect(got.slice(2, 8)).toEqual([Infinity, Infinity, -Infinity, Infinity, Infinity, -Infinity]);
    expect(Object.is(got[8], -0)).toBe(true);
    expect(got[9]).toEqual(new PlistReal(1000));
    expect(got[10]).toBe(0.5);
    expect(got[11]).toEqual(new PlistReal(5));
    expect(parseXml('<real>3</real>', { reals: 'number' })).toBe(3);
  });

  it('returns safe integers as numbers and others as bigint', () => {
    expect(parseXml('<integer>9007199254740991</integer>')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseXml('<integer>9007199254740992</integer>')).toBe(9007199254740992n);
    expect(parseXml('<integer>-0</integer>')).toBe(0);
    expect(Object.is(parseXml('<integer>-0</integer>'), -0)).toBe(false);
    expect(parseXml('<integer> 12 </integer>')).toBe(12);
  });

  it('accepts partial dates as Apple and python do', () => {
    expect((parseXml('<date>2020Z</date>') as Date).toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect((parseXml('<date>0099-03-04T05:06Z</date>') as Date).toISOString()).toBe(
      '0099-03-04T05:06:00.000Z',
    );
  });

  it('does not pollute prototypes', () => {
    const v = parseXml(
      wrap(
        '<dict><key>__proto__</key><dict><key>polluted</key><true/></dict><key>constructor</key><string>x</string></dict>',
      ),
    ) as PlistDict;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(v.constructor).toBe('x');
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: true });
  });

  it('handles comments, CDATA, PIs, CRLF and no XML declaration', () => {
    const v = parseXml(
      '<!-- c --><?pi x?><plist><!-- c --><array><string>a<!-- x -->b<![CDATA[<&>]]>c\r\nd\re</string></array></plist><!-- end -->',
    );
    expect(v).toEqual(['ab<&>c\nd\ne']);
  });

  it('accepts a bare root element, a BOM and UTF-16 in both byte orders', () => {
    expect(parseXml('<string>x</string>')).toBe('x');
    const doc = wrap('<string>é€\u{1F600}</string>');
    const utf8 = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(doc)]);
    expect(parseXml(utf8)).toBe('é€\u{1F600}');
    const utf16doc = doc.replace('UTF-8', 'UTF-16');
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(utf16doc, 'utf16le')]);
    expect(parseXml(le)).toBe('é€\u{1F600}');
    const be = Buffer.from(utf16doc, 'utf16le').swap16();
    expect(parse(be)).toBe('é€\u{1F600}');
    expect(parse(Buffer.concat([Buffer.from([0xfe, 0xff]), be]))).toBe('é€\u{1F600}');
  });

  it('keeps the last of duplicate keys', () => {
    expect(parseXml('<dict><key>a</key><integer>1</integer><key>a</key><integer>2</integer></dict>')).toEqual(
      { a: 2 },
    );
  });
});

describe('parseXml errors', () => {
  it.each([
    ['<plist><dict><key>A</key></dict></plist>', 'MISSING_VALUE'],
    ['<plist><dict><string>x</string></dict></plist>', 'EXPECTED_KEY'],
    ['<plist><dict><key>A</key><foo/></dict></plist>', 'UNKNOWN_TAG'],
    ['<plist><key>A</key></plist>', 'INVALID_XML'],
    ['<plist><integer>1.5</integer></plist>', 'INVALID_INTEGER'],
    ['<plist><integer></integer></plist>', 'INVALID_INTEGER'],
    ['<plist><integer>18446744073709551616</integer></plist>', 'INTEGER_OUT_OF_RANGE'],
    ['<plist><integer>-9223372036854775809</integer></plist>', 'INTEGER_OUT_OF_RANGE'],
    ['<plist><real>1.2.3</real></plist>', 'INVALID_REAL'],
    ['<plist><real>0x10</real></plist>', 'INVALID_REAL'],
    ['<plist><date>2020-02-30T00:00:00Z</date></plist>', 'INVALID_DATE'],
    ['<plist><date>2020-01-01T00:00:00</date></plist>', 'INVALID_DATE'],
    ['<plist><data>AB$C</data></plist>', 'INVALID_BASE64'],
    ['<plist><data>A</data></plist>', 'INVALID_BASE64'],
    ['<plist><data>AA==AA==</data></plist>', 'INVALID_BASE64'],
    ['<plist><string>&foo;</string></plist>', 'INVALID_ENTITY'],
    ['<plist><string>&#xZ;</string></plist>', 'INVALID_ENTITY'],
    ['<plist><string>&#;</string></plist>', 'INVALID_ENTITY'],
    ['<plist><string>&amp</string></plist>', 'INVALID_ENTITY'],
    ['<plist><string>&#x110000;</string></plist>', 'INVALID_ENTITY'],
    ['<!DOCTYPE plist [<!ENTITY a "b">]><plist><string>&a;</string></plist>', 'DTD_NOT_ALLOWED'],
    ['', 'EMPTY'],
    ['<plist/>', 'EMPTY'],
    ['<plist></plist>', 'EMPTY'],
    ['<plist><string>a</string><string>b</string></plist>', 'INVALID_XML'],
    ['<plist><string>a</plist>', 'INVALID_XML'],
    ['<plist><array><string>a</string></plist>', 'INVALID_XML'],
    ['<plist><string>a</string></plist>trailing', 'INVALID_XML'],
    ['<plist><array>text</array></plist>', 'INVALID_XML'],
    ['<plist><string><b>x</b></string></plist>', 'INVALID_XML'],
    ['<plist><true>x</true></plist>', 'INVALID_XML'],
    ['<plist><!-- never closed', 'INVALID_XML'],
    ['<plist version=1.0><true/></plist>', 'INVALID_XML'],
    ['<plist><array><dict></array></dict></plist>', 'INVALID_XML'],
  ])('%s -> %s', (input, code) => {
    expect(err(input).code).toBe(code);
  });

  it('reports offset, line, column and key path', () => {
    const doc =
      '<plist>\n<dict>\n  <key>Outer</key>\n  <array>\n    <integer>1</integer>\n    <integer>x</integer>\n';
    const e = err(`${doc}</array></dict></plist>`);
    expect(e.code).toBe('INVALID_INTEGER');
    expect(e.line).toBe(6);
    expect(e.column).toBe(14);
    expect(e.offset).toBe(doc.lastIndexOf('x'));
    expect(e.keyPath).toEqual(['Outer', 1]);
    expect(e.message).toContain('Outer[1]');
  });

  it('rejects encodings other than UTF-8/UTF-16 in byte input (a string is already decoded)', () => {
    const doc = '<?xml version="1.0" encoding="ISO-8859-1"?><plist><string>x</string></plist>';
    expect(err(new TextEncoder().encode(doc)).code).toBe('UNSUPPORTED_ENCODING');
    expect(parseXml(doc)).toBe('x');
  });

  it('rejects invalid UTF-8 with a typed error', () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('<string>'),
      0xc3,
      0x28,
      ...new TextEncoder().encode('</string>'),
    ]);
    expect(err(bytes).code).toBe('INVALID_ENCODING');
  });

  it('enforces limits', () => {
    const deep = `${'<array>'.repeat(600)}${'</array>'.repeat(600)}`;
    expect(err(deep).code).toBe('LIMIT_EXCEEDED');
    expect(parseXml(deep, { limits: { maxDepth: 1000 } })).toBeInstanceOf(Array);
    expect(err('<array><true/><true/><true/></array>', { limits: { maxObjects: 3 } }).code).toBe(
      'LIMIT_EXCEEDED',
    );
    expect(err('<string>abcdef</string>', { limits: { maxStringLength: 5 } }).code).toBe('LIMIT_EXCEEDED');
    expect(err('<data>AAAAAAAA</data>', { limits: { maxDataLength: 5 } }).code).toBe('LIMIT_EXCEEDED');
    expect(err('<string>abcdef</string>', { limits: { maxBytes: 10 } }).code).toBe('LIMIT_EXCEEDED');
  });

  it('survives very deep nesting without recursion', () => {
    const n = 50_000;
    const deep = `${'<array>'.repeat(n)}${'</array>'.repeat(n)}`;
    expect(parseXml(deep, { limits: { maxDepth: n } })).toBeInstanceOf(Array);
  });

  it('does not expand entities declared anywhere (billion laughs)', () => {
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><plist><string>&lol2;</string></plist>';
    expect(err(bomb).code).toBe('DTD_NOT_ALLOWED');
    expect(err('<plist><string>&lol2;</string></plist>').code).toBe('INVALID_ENTITY');
  });
});

describe('buildXml', () => {
  it('applies the number rule', () => {
    const xml = buildXml([1, -0, 1.5, 2 ** 53, real(2), 10n, NaN, Infinity, -Infinity]);
    expect(xml).toContain(
      '<integer>1</integer>\n\t<real>-0.0</real>\n\t<real>1.5</real>\n\t<real>9007199254740992</real>\n\t<real>2</real>\n\t<integer>10</integer>\n\t<real>nan</real>\n\t<real>+infinity</real>\n\t<real>-infinity</real>',
    );
  });

  it('round-trips every type with its type', () => {
    const v: PlistValue = {
      int: 7,
      neg: -7,
      big: 2n ** 64n - 1n,
      min: -(2n ** 63n),
      realInt: real(4),
      negZero: -0,
      frac: 0.1,
      nan: NaN,
      inf: -Infinity,
      str: 'tab\tnl\ncr\r<&>]]> \u007f é \u{1F600}',
      date: new Date('1999-12-31T23:59:59Z'),
      data: new Uint8Array([0, 255, 128]),
      empty: new Uint8Array(0),
      arr: [true, false, [], {}, ''],
      '': 'empty key',
    };
    const back = parseXml(buildXml(v)) as PlistDict;
    expect(back).toEqual(v);
    expect(Object.is(back.negZero, -0)).toBe(true);
    expect(back.realInt).toBeInstanceOf(PlistReal);
  });

  it('writes large documents across output chunks without splitting characters', () => {
    const v = Array.from({ length: 5000 }, (_, i) => ({
      [`k€${i}`]: `välue ${'é'.repeat(i % 50)} \u{1F600}`,
      n: i,
    }));
    v.push({ big: 'x'.repeat(200_000), bigUnicode: '€'.repeat(100_000) } as never);
    const xml = buildXml(v);
    expect(xml.length).toBeGreaterThan(300_000);
    expect(new TextDecoder().decode(buildXmlBytes(v))).toBe(xml);
    expect(parseXml(xml)).toEqual(v);
    expect(parseXml(buildXmlBytes(v))).toEqual(v);
    expect(new TextDecoder().decode(buildXmlBytes({ a: 1 }))).toBe(buildXml({ a: 1 }));
  });

  it('writes dates to the second, sorts keys, honours indent', () => {
    expect(buildXml(new Date('2020-01-01T00:00:00.999Z'))).toContain('<date>2020-01-01T00:00:00Z</date>');
    const xml = buildXml({ b: 1, a: { d: 1, c: 2 } }, { sortKeys: true, indent: '' });
    expect(xml).toContain(
      '<dict><key>a</key><dict><key>c</key><integer>2</integer><key>d</key><integer>1</integer></dict><key>b</key>',
    );
    expect(buildXml({ a: [1] }, { indent: '  ' })).toContain(
      '\n  <key>a</key>\n  <array>\n    <integer>1</integer>',
    );
  });

  it('writes UIDs as CF$UID dicts and skips undefined members', () => {
    expect(parseXml(buildXml({ u: uid(3), skip: undefined as unknown as PlistValue }))).toEqual({
      u: { CF$UID: 3 },
    });
  });

  it('rejects values no plist can hold', () => {
    const bad: unknown[] = [
      null,
      undefined,
      () => 1,
      Symbol('x'),
      new Date(NaN),
      2n ** 64n,
      -(2n ** 63n) - 1n,
      new Map(),
      [undefined],
    ];
    for (const b of bad) {
      expect(() => buildXml(b as PlistValue)).toThrowError(PlistParseError);
    }
    const cyclic: PlistValue[] = [];
    cyclic.push(cyclic);
    try {
      buildXml(cyclic);
      expect.unreachable();
    } catch (e) {
      expect((e as PlistParseError).code).toBe('CYCLE');
    }
  });
});
