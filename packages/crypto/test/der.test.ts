import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Certificate,
  CryptoError,
  parseCertificate,
  parseCsr,
  pemDecode,
  pemDecodeAll,
  pemEncode,
  verifyCms,
} from '../src/index';
import {
  type DerElement,
  parseDer,
  readBoolean,
  readInteger,
  readIntegerHex,
  readOctets,
  readOid,
  readString,
  readTime,
  Tag,
} from '../src/der';
import {
  derBoolean,
  derInteger,
  derOctetString,
  derOid,
  derPrintableString,
  derSequence,
  derSet,
  derTime,
  derTlv,
  derUtf8String,
} from './support/der-writer';
import { makePki } from './sign-fixtures';

const readStringTlv = (der: Uint8Array) => readString(parseDer(der));
const readOctetsTlv = (der: Uint8Array) => readOctets(parseDer(der, { allowIndefinite: true }));

const RUNS = Number(process.env.MDMKIT_FUZZ_RUNS ?? 400);

function expectCode(fn: () => unknown, code: string) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    expect((e as CryptoError).code).toBe(code);
    return;
  }
  throw new Error('expected a throw');
}

/** Visits every element; only CryptoError may escape. */
function walk(el: DerElement): number {
  let n = 1;
  if (el.constructed) for (const c of el.children()) n += walk(c);
  return n;
}

describe('DER writer/reader round trips', () => {
  it('OIDs', () => {
    for (const oid of [
      '1.2.840.113549.1.1.11',
      '2.5.29.37.0',
      '0.9.2342.19200300.100.1.1',
      '2.999.3',
      '1.3.6.1.4.1.311.21.7',
    ]) {
      expect(readOid(parseDer(derOid(oid)))).toBe(oid);
    }
    expect(Buffer.from(derOid('1.2.840.113549')).toString('hex')).toBe('06062a864886f70d');
    expect(() => derOid('1.40')).toThrow(CryptoError);
    expect(() => derOid('nope')).toThrow(CryptoError);
  });

  it('INTEGERs, including negative and leading-zero cases', () => {
    for (const v of [0n, 1n, 127n, 128n, 255n, 256n, -1n, -128n, -129n, 2n ** 127n, -(2n ** 64n)]) {
      expect(readInteger(parseDer(derInteger(v)))).toBe(v);
    }
    expect(Buffer.from(derInteger(128)).toString('hex')).toBe('02020080');
    expect(Buffer.from(derInteger(-128)).toString('hex')).toBe('020180');
    expect(readIntegerHex(parseDer(derInteger(Buffer.from('00ff01', 'hex'))))).toBe('ff01');
  });

  it('times pick UTCTime before 2050 and GeneralizedTime after', () => {
    for (const iso of [
      '1950-01-01T00:00:00Z',
      '2049-12-31T23:59:59Z',
      '2050-01-01T00:00:00Z',
      '2126-06-01T12:00:00Z',
    ]) {
      const enc = derTime(new Date(iso));
      expect(enc[0]).toBe(new Date(iso).getUTCFullYear() < 2050 ? Tag.UTC_TIME : Tag.GENERALIZED_TIME);
      expect(readTime(parseDer(enc)).toISOString()).toBe(new Date(iso).toISOString());
    }
  });

  it('strings, booleans, octets and public value helpers', () => {
    expect(readString(parseDer(derUtf8String('Grüße ✓')))).toBe('Grüße ✓');
    expect(readStringTlv(derPrintableString('19'))).toBe('19');
    expect(() => derPrintableString('a_b')).toThrow(CryptoError);
    expect(readStringTlv(derTlv(Tag.BMP_STRING, Uint8Array.of(0, 0x41, 0x20, 0xac)))).toBe('A€');
    expect(readBoolean(parseDer(derBoolean(true)))).toBe(true);
    expect(Array.from(readOctetsTlv(derOctetString(Uint8Array.of(1, 2, 3))))).toEqual([1, 2, 3]);
  });

  it('SET OF is sorted, long lengths encode and decode', () => {
    const s = derSet([derInteger(3), derInteger(1), derInteger(2)]);
    expect(
      parseDer(s)
        .children()
        .map((c) => readInteger(c)),
    ).toEqual([1n, 2n, 3n]);
    const big = derOctetString(new Uint8Array(70_000));
    expect(big.subarray(0, 5)).toEqual(Uint8Array.of(0x04, 0x83, 0x01, 0x11, 0x70));
    expect(parseDer(big).content.length).toBe(70_000);
  });

  it('BER indefinite lengths and constructed OCTET STRINGs only when allowed', () => {
    // SEQUENCE (indef) { OCTET STRING (constructed, indef) { "ab", "c" } }
    const ber = Uint8Array.of(0x30, 0x80, 0x24, 0x80, 0x04, 0x02, 0x61, 0x62, 0x04, 0x01, 0x63, 0, 0, 0, 0);
    expectCode(() => parseDer(ber), 'INVALID_DER');
    const el = parseDer(ber, { allowIndefinite: true });
    expect(el.end).toBe(ber.length);
    expect(Buffer.from(readOctetsTlv(el.children()[0]!.raw)).toString()).toBe('abc');
  });
});

describe('DER reader rejects bad input with typed errors', () => {
  it.each([
    ['empty', []],
    ['truncated header', [0x30]],
    ['truncated content', [0x04, 0x05, 1, 2]],
    ['length field too long', [0x04, 0x85, 1, 1, 1, 1, 1]],
    ['trailing bytes', [0x05, 0x00, 0x00]],
    ['high tag number', [0x1f, 0x81, 0x01, 0x00]],
    ['indefinite primitive', [0x04, 0x80, 0, 0]],
  ])('%s', (_name, bytes) => {
    expectCode(() => parseDer(Uint8Array.from(bytes as number[]), { allowIndefinite: true }), 'INVALID_DER');
  });

  it('enforces depth, element and size limits', () => {
    let nested = derSequence([]);
    for (let i = 0; i < 60; i++) nested = derSequence([nested]);
    expectCode(() => walk(parseDer(nested)), 'LIMIT_EXCEEDED');
    expect(walk(parseDer(nested, { maxDepth: 100 }))).toBe(61);
    const many = derSequence(Array.from({ length: 50 }, () => derBoolean(false)));
    expectCode(() => walk(parseDer(many, { maxElements: 10 })), 'LIMIT_EXCEEDED');
    expectCode(() => parseDer(many, { maxLength: 10 }), 'LIMIT_EXCEEDED');
  });

  it('rejects malformed OIDs, times and strings', () => {
    expectCode(() => readOid(parseDer(Uint8Array.of(0x06, 0x02, 0x2a, 0x86))), 'INVALID_DER');
    expectCode(() => readOid(parseDer(Uint8Array.of(0x06, 0x02, 0x80, 0x01))), 'INVALID_DER');
    expectCode(() => readTime(parseDer(derTlv(Tag.UTC_TIME, Buffer.from('2613321200Z')))), 'INVALID_DER');
    expectCode(() => readString(parseDer(derTlv(Tag.UTF8_STRING, Uint8Array.of(0xc3)))), 'INVALID_DER');
  });
});

describe('PEM', () => {
  it('round-trips and finds labelled blocks among text', () => {
    const der = Uint8Array.from({ length: 100 }, (_, i) => i);
    const pem = pemEncode('CERTIFICATE', der);
    expect(pem.split('\n')[1]!.length).toBe(64);
    const text = `Bag Attributes\n${pemEncode('PRIVATE KEY', Uint8Array.of(1))}junk\n${pem}`;
    expect(pemDecode(text, 'CERTIFICATE').der).toEqual(der);
    expect(pemDecodeAll(text).map((b) => b.label)).toEqual(['PRIVATE KEY', 'CERTIFICATE']);
    expectCode(() => pemDecode(text, 'CERTIFICATE REQUEST'), 'INVALID_PEM');
    expectCode(() => pemDecode('-----BEGIN X-----\n$$$\n-----END X-----'), 'INVALID_PEM');
  });
});

describe('fuzz (bounded; MDMKIT_FUZZ_RUNS for more)', () => {
  let cert: Certificate;
  beforeAll(async () => {
    cert = (await makePki()).leaf;
  });

  it('random bytes never escape as anything but CryptoError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, ber) => {
        try {
          walk(parseDer(bytes, { allowIndefinite: ber }));
        } catch (e) {
          expect(e).toBeInstanceOf(CryptoError);
        }
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it('mutated and truncated certificates give CryptoError from every parser', async () => {
    const der = cert.der;
    const parsers: ((b: Uint8Array) => unknown)[] = [parseCertificate, parseCsr];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(der.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(der.length),
        async (edits, cut) => {
          const m = Uint8Array.from(der);
          for (const [i, v] of edits) m[i] = v;
          for (const input of [m, m.subarray(0, cut)]) {
            for (const p of parsers) {
              try {
                p(input);
              } catch (e) {
                expect(e).toBeInstanceOf(CryptoError);
              }
            }
            await verifyCms(input).catch((e) => expect(e).toBeInstanceOf(CryptoError));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
