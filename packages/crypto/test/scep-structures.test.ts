import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  derInteger,
  derOctetString,
  derPrintableString,
  derSequence,
  derUtf8String,
} from './support/der-writer';
import {
  CryptoError,
  createCsr,
  createSelfSignedCa,
  decodeIssuerAndSerial,
  decodeIssuerAndSubject,
  encodeIssuerAndSerial,
  encodeIssuerAndSubject,
  encodeName,
  generateKeyPair,
  importPkcs12,
  octetStringAttribute,
  parseCsr,
  printableStringAttribute,
  readOctetStringAttributeValue,
  readStringAttributeValue,
} from '../src/index';
import { codeOf } from './support/error-code';

const RUNS = Number(process.env.MDMKIT_FUZZ_RUNS ?? 400);

/** Re-encodes the outermost length in long form: valid BER, not DER. */
function longFormOuter(der: Uint8Array): Uint8Array {
  expect(der[1]! < 0x80).toBe(true);
  return Uint8Array.from([der[0]!, 0x81, der[1]!, ...der.subarray(2)]);
}

describe('IssuerAndSerialNumber and IssuerAndSubject (SCEP GetCert, CertPoll)', () => {
  const issuer = encodeName('CN=Example CA,O=Example,C=US');

  it('encodes what the hand-built DER was, byte for byte, and reads it back', () => {
    for (const serial of ['01', '7f', '80', 'ff01', '00ff', 'deadbeefcafe0123456789abcdef0123456789ab']) {
      const der = encodeIssuerAndSerial({ issuer, serial });
      expect(Buffer.from(der)).toEqual(Buffer.from(derSequence([issuer, derInteger(BigInt(`0x${serial}`))])));
      // Read back without leading zero octets, as Certificate.serialNumber is.
      expect(decodeIssuerAndSerial(der)).toEqual({ issuer, serial: serial.replace(/^(00)+(?=..)/, '') });
    }
    const subject = encodeName('CN=device-1');
    const both = encodeIssuerAndSubject({ issuer, subject: 'CN=device-1' });
    expect(Buffer.from(both)).toEqual(Buffer.from(derSequence([issuer, subject])));
    expect(decodeIssuerAndSubject(both)).toEqual({ issuer, subject });
  });

  it('keeps a CA subject byte for byte, PrintableString and all', async () => {
    const ca = await createSelfSignedCa({ subject: 'CN=Example CA,C=US,emailAddress=ca@example.com' });
    const der = encodeIssuerAndSerial({
      issuer: ca.certificate.subject.der,
      serial: ca.certificate.serialNumber,
    });
    const back = decodeIssuerAndSerial(der);
    expect(Buffer.from(back.issuer)).toEqual(Buffer.from(ca.certificate.subject.der));
    expect(back.serial).toBe(ca.certificate.serialNumber);
  });

  it('refuses BER liberties, trailing bytes, wrong shapes and bad serials with INVALID_DER', () => {
    const good = encodeIssuerAndSerial({ issuer, serial: '01' });
    expect(codeOf(() => decodeIssuerAndSerial(longFormOuter(good)))).toBe('INVALID_DER');
    expect(codeOf(() => decodeIssuerAndSerial(Uint8Array.from([...good, 0])))).toBe('INVALID_DER');
    expect(codeOf(() => decodeIssuerAndSerial(new Uint8Array(0)))).toBe('INVALID_DER');
    expect(codeOf(() => decodeIssuerAndSerial(derSequence([issuer, issuer])))).toBe('INVALID_DER');
    expect(codeOf(() => decodeIssuerAndSubject(good))).toBe('INVALID_DER');
    // Indefinite length (BER): refused.
    const indefinite = Uint8Array.from([0x30, 0x80, ...good.subarray(2), 0, 0]);
    expect(codeOf(() => decodeIssuerAndSerial(indefinite))).toBe('INVALID_DER');
    expect(codeOf(() => encodeIssuerAndSerial({ issuer, serial: 'xyz' }))).toBe('INVALID_DER');
    expect(codeOf(() => encodeIssuerAndSerial({ issuer: Uint8Array.of(1, 2), serial: '01' }))).toBe(
      'INVALID_DER',
    );
  });

  it('refuses hostile nesting and size with a typed error, quickly', () => {
    const deep = new Uint8Array(60_000);
    for (let i = 0; i < 30_000; i++) {
      deep[2 * i] = 0x30;
      deep[2 * i + 1] = 0x80;
    }
    const t = performance.now();
    expect(codeOf(() => decodeIssuerAndSerial(deep))).toBe('INVALID_DER');
    expect(codeOf(() => decodeIssuerAndSubject(new Uint8Array(1 << 20).fill(0x30)))).toBe('LIMIT_EXCEEDED');
    expect(performance.now() - t).toBeLessThan(500);
  });

  it('throws only CryptoError on arbitrary and mutated input', () => {
    const good = encodeIssuerAndSubject({ issuer, subject: 'CN=x' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const f of [decodeIssuerAndSerial, decodeIssuerAndSubject]) {
          try {
            f(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(CryptoError);
          }
        }
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = good.slice();
        bad[at]! ^= xor;
        try {
          decodeIssuerAndSubject(bad);
        } catch (e) {
          expect(e).toBeInstanceOf(CryptoError);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('single-valued attributes (SCEP messageType, nonces)', () => {
  it('encodes PrintableString and OCTET STRING values as the DER toolkit did', () => {
    expect(printableStringAttribute('1.2.3', '19')).toEqual({
      oid: '1.2.3',
      values: [derPrintableString('19')],
    });
    const nonce = Uint8Array.of(1, 2, 3, 250);
    expect(octetStringAttribute('1.2.4', nonce)).toEqual({ oid: '1.2.4', values: [derOctetString(nonce)] });
    expect(codeOf(() => printableStringAttribute('1.2.3', 'a_b'))).toBe('INVALID_DER');
  });

  it('reads any directory string type, and refuses other types', () => {
    expect(readStringAttributeValue(derPrintableString('19'))).toBe('19');
    expect(readStringAttributeValue(derUtf8String('grüße'))).toBe('grüße');
    expect(codeOf(() => readStringAttributeValue(derInteger(19)))).toBe('INVALID_DER');
    expect(codeOf(() => readStringAttributeValue(derOctetString(Uint8Array.of(0x31))))).toBe('INVALID_DER');
  });

  it('reads DER OCTET STRING values and refuses the chunked BER form rather than guess', () => {
    expect(Array.from(readOctetStringAttributeValue(derOctetString(Uint8Array.of(9, 8))))).toEqual([9, 8]);
    const chunked = Uint8Array.of(0x24, 0x80, 0x04, 0x01, 0x07, 0x04, 0x01, 0x08, 0, 0);
    expect(codeOf(() => readOctetStringAttributeValue(chunked))).toBe('INVALID_DER');
    expect(codeOf(() => readOctetStringAttributeValue(derPrintableString('x')))).toBe('INVALID_DER');
  });
});

describe('parseCsr with canonical: true (a request inside a SCEP envelope)', () => {
  it('accepts our DER, refuses long-form lengths, trailing bytes and PEM that the lenient read accepts', async () => {
    const { privateKey } = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    const der = await createCsr({ subject: 'CN=device', privateKey, challengePassword: 'pw' });
    expect(parseCsr(der, { canonical: true }).challengePassword).toBe('pw');
    // Long-form outer length: the lenient read takes it, the canonical one does not.
    const len = der.length - 3; // outer header is 30 81 xx for this size
    expect(der[1]).toBe(0x81);
    const longer = Uint8Array.from([0x30, 0x82, len >> 8, len & 0xff, ...der.subarray(3)]);
    expect(parseCsr(longer).subject.get('CN')).toBe('device');
    expect(codeOf(() => parseCsr(longer, { canonical: true }))).toBe('INVALID_CSR');
    expect(codeOf(() => parseCsr(Uint8Array.from([...der, 0]), { canonical: true }))).toBe('INVALID_CSR');
    const pem = parseCsr(der).pem;
    expect(parseCsr(pem).subject.get('CN')).toBe('device');
    expect(codeOf(() => parseCsr(pem, { canonical: true }))).toBe('INVALID_CSR');
    expect(codeOf(() => parseCsr(der, { maxBytes: 100 }))).toBe('LIMIT_EXCEEDED');
  });
});

describe('the lenient read (parseCsr, importPkcs12) keeps the element and depth limits', () => {
  // A SEQUENCE of `count` NULLs, definite lengths only, so nothing but a full scan sees the count.
  const manyNulls = (count: number) => {
    const body = new Uint8Array(count * 2).fill(0).map((_, i) => (i % 2 === 0 ? 0x05 : 0));
    const header = [0x30, 0x83, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff];
    return Uint8Array.from([...header, ...body]);
  };
  // `depth` nested SEQUENCEs around a NULL, each with a definite length.
  const nested = (depth: number) => {
    let inner: Uint8Array = Uint8Array.of(0x05, 0x00);
    for (let i = 0; i < depth; i++) inner = derSequence([inner]);
    return inner;
  };

  it('refuses more DER elements than the limit with LIMIT_EXCEEDED, as the canonical read does', () => {
    const input = manyNulls(250_000);
    expect(codeOf(() => parseCsr(input))).toBe('LIMIT_EXCEEDED');
    expect(codeOf(() => importPkcs12(input, 'pw'))).toBe('LIMIT_EXCEEDED');
    expect(codeOf(() => parseCsr(input, { canonical: true }))).toBe('LIMIT_EXCEEDED');
  });

  it('refuses nesting deeper than the limit with LIMIT_EXCEEDED, as the canonical read does', () => {
    const input = nested(60);
    expect(codeOf(() => parseCsr(input))).toBe('LIMIT_EXCEEDED');
    expect(codeOf(() => importPkcs12(input, 'pw'))).toBe('LIMIT_EXCEEDED');
    expect(codeOf(() => parseCsr(input, { canonical: true }))).toBe('LIMIT_EXCEEDED');
  });

  it('reports a malformed inner element with the code of the caller, not of the scanner', () => {
    // The outer length holds, the inner one runs past it.
    const input = Uint8Array.of(0x30, 0x04, 0x30, 0x05, 0x05, 0x00);
    expect(codeOf(() => parseCsr(input))).toBe('INVALID_CSR');
    expect(codeOf(() => parseCsr(input, { canonical: true }))).toBe('INVALID_CSR');
    expect(codeOf(() => importPkcs12(input, 'pw'))).toBe('INVALID_PKCS12');
  });
});
