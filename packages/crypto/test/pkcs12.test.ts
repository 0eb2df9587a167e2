import { createPublicKey, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../src/certificate';
import { type DerElement, parseDer } from '../src/der';
import { CryptoError } from '../src/errors';
import { exportPkcs12, importPkcs12, pkcs12Kdf } from '../src/pkcs12';
import { makeIdentity, opensslAvailable, TempDir, type TestIdentity } from './support/openssl';

const spki = (k: KeyObject) => createPublicKey(k).export({ format: 'der', type: 'spki' });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    return (e as CryptoError).code;
  }
  return 'no error';
}

describe('PKCS#12 key derivation', () => {
  it('derives distinct key, IV and MAC material and depends on every input', () => {
    const pw = Buffer.from('00700061007300730000', 'hex'); // "pass" as BMPString + terminator
    const salt = Buffer.from('0102030405060708', 'hex');
    const k1 = pkcs12Kdf('sha1', 64, pw, salt, 3, 1, 24);
    const k2 = pkcs12Kdf('sha1', 64, pw, salt, 3, 2, 8);
    const k3 = pkcs12Kdf('sha1', 64, pw, salt, 3, 3, 20);
    expect(k1.length).toBe(24);
    expect(k1.subarray(0, 8)).not.toEqual(k2);
    expect(k1.subarray(0, 20)).not.toEqual(k3);
    expect(pkcs12Kdf('sha1', 64, pw, salt, 4, 1, 24)).not.toEqual(k1);
    // Output longer than one hash block exercises the I_j update loop; its prefix is the one-block output.
    const long = pkcs12Kdf('sha1', 64, pw, salt, 3, 1, 60);
    expect(long.subarray(0, 24)).toEqual(k1);
  });
});

const ok = opensslAvailable('PKCS#12 round trips (certificates made by openssl)');

describe.skipIf(!ok)('PKCS#12 round trips and bad input', () => {
  let dir: TempDir;
  let rsa: TestIdentity;
  let ec: TestIdentity;
  beforeAll(() => {
    dir = new TempDir();
    rsa = makeIdentity(dir, 'rsa');
    ec = makeIdentity(dir, 'ec', 'ec');
  });
  afterAll(() => dir.remove());

  it('round-trips RSA and EC keys with both encryptions; wrong password is BAD_PASSWORD', () => {
    for (const id of [rsa, ec]) {
      const certificate = parseCertificate(id.certificate.pem);
      for (const encryption of ['3des', 'aes-256'] as const) {
        const p12 = exportPkcs12({
          privateKey: id.privateKey,
          certificate,
          password: 'pw',
          encryption,
          iterations: 100,
        });
        const back = importPkcs12(p12, 'pw');
        expect(back.privateKey && spki(back.privateKey)).toEqual(spki(id.privateKey));
        expect(back.certificate?.fingerprintSha256).toBe(certificate.fingerprintSha256);
        expect(back.chain).toEqual([]);
        expect(codeOf(() => importPkcs12(p12, 'pW'))).toBe('BAD_PASSWORD');
      }
    }
  });

  it('reads BER: indefinite lengths and a chunked authSafe OCTET STRING', () => {
    // Re-encodes every constructed element with an indefinite length and splits OCTET STRINGs into
    // constructed chunks, as streaming encoders (Windows, some Keychain versions) do. The MAC still
    // holds because it covers the octets' value, not their encoding.
    const toBer = (el: DerElement): Buffer => {
      if (el.constructed) {
        return Buffer.concat([Buffer.of(el.tag, 0x80), ...el.children().map(toBer), Buffer.of(0, 0)]);
      }
      if (el.tag === 0x04 && el.content.length > 64) {
        const chunks: Buffer[] = [];
        for (let i = 0; i < el.content.length; i += 50) {
          const part = el.content.subarray(i, i + 50);
          chunks.push(Buffer.of(0x04, part.length), Buffer.from(part));
        }
        return Buffer.concat([Buffer.of(0x24, 0x80), ...chunks, Buffer.of(0, 0)]);
      }
      return Buffer.from(el.raw);
    };
    const certificate = parseCertificate(rsa.certificate.pem);
    const der = exportPkcs12({ privateKey: rsa.privateKey, certificate, password: 'pw', iterations: 10 });
    const ber = toBer(parseDer(der));
    expect(ber.length).toBeGreaterThan(der.length);
    const back = importPkcs12(ber, 'pw');
    expect(back.privateKey && spki(back.privateKey)).toEqual(spki(rsa.privateKey));
    expect(back.certificate?.fingerprintSha256).toBe(certificate.fingerprintSha256);
  });

  it('supports the empty password', () => {
    const certificate = parseCertificate(rsa.certificate.pem);
    const p12 = exportPkcs12({ privateKey: rsa.privateKey, certificate, password: '', iterations: 10 });
    expect(importPkcs12(p12, '').privateKey).toBeDefined();
  });

  it('refuses absurd iteration counts and unknown encryption', () => {
    const certificate = parseCertificate(rsa.certificate.pem);
    expect(
      codeOf(() => exportPkcs12({ privateKey: rsa.privateKey, certificate, password: 'x', iterations: 1e9 })),
    ).toBe('LIMIT_EXCEEDED');
    expect(
      codeOf(() =>
        exportPkcs12({ privateKey: rsa.privateKey, certificate, password: 'x', encryption: 'rc4' as '3des' }),
      ),
    ).toBe('UNSUPPORTED_ALGORITHM');
  });

  it('fuzz: mutated files only ever raise CryptoError', () => {
    const certificate = parseCertificate(rsa.certificate.pem);
    const seeds = [
      exportPkcs12({ privateKey: rsa.privateKey, certificate, password: 'pw', iterations: 1 }),
      exportPkcs12({
        privateKey: rsa.privateKey,
        certificate,
        password: 'pw',
        iterations: 1,
        encryption: 'aes-256',
      }),
    ];
    const runs = Number(process.env.MDMKIT_FUZZ_RUNS ?? 600);
    const codes = new Set<string>();
    for (let i = 0; i < runs; i++) {
      const seed = seeds[i % 2] as Uint8Array;
      let input = Uint8Array.from(seed);
      if (i % 3 === 0) input = input.subarray(0, (Math.random() * input.length) | 0);
      else input[(Math.random() * (i % 3 === 1 ? 80 : input.length)) | 0] = (Math.random() * 256) | 0;
      try {
        importPkcs12(input, 'pw');
        codes.add('ok');
      } catch (e) {
        if (!(e instanceof CryptoError)) throw new Error(`non-CryptoError escaped: ${String(e)}`);
        codes.add(e.code);
      }
    }
    expect(codes.size).toBeGreaterThan(1);
  });
});
