// Strings that XML 1.0 cannot carry (most C0 controls, U+FFFE, U+FFFF, lone surrogates) are refused
// by the XML builders with a typed error instead of being written in a form python's plistlib (expat)
// rejects or changed silently; the binary format carries them, so binary round trips keep them.
import {
  buildBinary,
  buildXml,
  buildXmlBytes,
  PlistParseError,
  type PlistValue,
  parseBinary,
  parseXml,
} from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';

const refused: [string, string][] = [
  ['NUL', '\u0000'],
  ['U+0001', 'a\u0001b'],
  ['backspace', '\u0008'],
  ['vertical tab', '\u000b'],
  ['form feed', '\u000c'],
  ['U+000E', '\u000e'],
  ['U+001F', '\u001f'],
  ['U+FFFE', 'x\ufffe'],
  ['U+FFFF', '\uffff'],
  ['lone high surrogate', 'a\ud800b'],
  ['lone high surrogate at the end', 'a\udbff'],
  ['lone low surrogate', '\udc00z'],
  ['surrogates in the wrong order', '\udc00\ud800'],
];

function xmlError(value: PlistValue, bytes = false): PlistParseError {
  try {
    if (bytes) buildXmlBytes(value);
    else buildXml(value);
  } catch (e) {
    expect(e).toBeInstanceOf(PlistParseError);
    return e as PlistParseError;
  }
  throw new Error('buildXml accepted the value');
}

describe('buildXml and characters XML 1.0 cannot carry', () => {
  it.each(refused)('refuses %s in a string, with its key path', (_name, s) => {
    const e = xmlError({ Outer: [1, { Name: s }] });
    expect(e.code).toBe('NOT_REPRESENTABLE_IN_XML');
    expect(e.keyPath).toEqual(['Outer', 1, 'Name']);
    expect(xmlError(s, true).code).toBe('NOT_REPRESENTABLE_IN_XML');
  });

  it.each(refused)('refuses %s in a dictionary key', (_name, s) => {
    const e = xmlError({ ok: { [`k${s}`]: 1 } });
    expect(e.code).toBe('NOT_REPRESENTABLE_IN_XML');
    expect(e.keyPath).toEqual(['ok', `k${s}`]);
  });

  it.each(refused)('refuses %s in a long non-ASCII string', (_name, s) => {
    expect(xmlError(`${'é'.repeat(100)}${s}${'x'.repeat(100)}`).code).toBe('NOT_REPRESENTABLE_IN_XML');
  });

  it('writes every character XML 1.0 allows and reads it back unchanged', () => {
    const allowed = [
      '\t',
      '\n',
      '\r',
      'a\r\nb',
      '\u007f',
      '\u0080\u0085\u009f',
      '\ud7ff\ue000\ufffd',
      '\ud83d\ude00',
      '\u{10ffff}',
      '<&>"\'',
      ']]>',
    ];
    for (const s of allowed) {
      expect(parseXml(buildXml(s))).toBe(s);
      expect(parseXml(buildXml({ [s]: s }))).toEqual({ [s]: s });
    }
  });
});

describe('parseXml stays lenient', () => {
  it('reads such characters raw or as references, as Apple’s reader does', () => {
    expect(parseXml('<plist><string>a&#1;b</string></plist>')).toBe('a\u0001b');
    expect(parseXml('<plist><string>a\u0001b</string></plist>')).toBe('a\u0001b');
    expect(parseXml('<plist><string>&#xFFFE;</string></plist>')).toBe('\ufffe');
  });
});

describe('binary round trips', () => {
  it.each(refused)('keep %s, short and long', (_name, s) => {
    for (const v of [s, `${s}${'é'.repeat(40)}`, `${'x'.repeat(40)}${s}`]) {
      expect(parseBinary(buildBinary(v))).toBe(v);
      expect(parseBinary(buildBinary({ [v]: [v] }))).toEqual({ [v]: [v] });
    }
  });
});
