import { createCipheriv, createHmac, createPublicKey, type KeyObject, pbkdf2Sync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../src/certificate';
import { type DerElement, parseDer } from '../src/der';
import { CryptoError } from '../src/errors';
import { exportPkcs12, importPkcs12, pkcs12Kdf } from '../src/pkcs12';
import {
  derExplicit,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derTlv,
} from './support/der-writer';
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

  it('checks a MAC that is present: a changed MAC digest is BAD_PASSWORD, a PFX without one still opens', () => {
    const certificate = parseCertificate(rsa.certificate.pem);
    const p12 = exportPkcs12({ privateKey: rsa.privateKey, certificate, password: 'pw', iterations: 10 });
    const [version, authSafe, macData] = parseDer(p12).children() as [DerElement, DerElement, DerElement];
    // The MAC digest is the last OCTET STRING of DigestInfo, the first element of MacData.
    const digest = (macData.children()[0] as DerElement).children()[1] as DerElement;
    const changed = Uint8Array.from(p12);
    changed[digest.contentEnd - 1]! ^= 1;
    expect(codeOf(() => importPkcs12(changed, 'pw'))).toBe('BAD_PASSWORD');
    expect(importPkcs12(p12, 'pw').macVerified).toBe(true);
    // Dropping MacData altogether leaves a file nothing protects: anyone can swap its unencrypted
    // bags. It is refused unless the caller opts in, and then the result says the MAC was not checked.
    const body = Buffer.concat([version.raw, authSafe.raw]);
    const noMac = Buffer.concat([Buffer.from([0x30, 0x82, body.length >> 8, body.length & 0xff]), body]);
    expect(codeOf(() => importPkcs12(noMac, 'pw'))).toBe('INVALID_PKCS12');
    const opened = importPkcs12(noMac, 'pw', { allowMissingMac: true });
    expect(opened.certificate?.fingerprintSha256).toBe(certificate.fingerprintSha256);
    expect(opened.macVerified).toBe(false);
  });

  it('never skips a MacData that is present but has an unreadable or empty algorithm', () => {
    const certificate = parseCertificate(rsa.certificate.pem);
    const p12 = exportPkcs12({ privateKey: rsa.privateKey, certificate, password: 'pw', iterations: 10 });
    const [version, authSafe] = parseDer(p12).children() as [DerElement, DerElement];
    // A MacData whose digest algorithm OID has no content octets, then one that is not a MacData at all.
    const seq = (...parts: Uint8Array[]) => {
      const b = Buffer.concat(parts);
      return Buffer.concat([Buffer.from([0x30, 0x82, b.length >> 8, b.length & 0xff]), b]);
    };
    const oddMac = seq(
      seq(seq(Buffer.from([0x06, 0x00]), Buffer.from([0x05, 0x00])), Buffer.from([0x04, 0x01, 0x00])),
      Buffer.from([0x04, 0x01, 0x00]),
    );
    for (const mac of [oddMac, Buffer.from([0x02, 0x01, 0x01])]) {
      const forged = seq(version.raw, authSafe.raw, mac);
      expect(codeOf(() => importPkcs12(forged, 'pw', { allowMissingMac: true }))).not.toBe('no error');
    }
  });

  it('refuses a file whose certificate does not belong to its private key', () => {
    const certificate = parseCertificate(rsa.certificate.pem);
    const other = parseCertificate(ec.certificate.pem);
    const p12 = exportPkcs12({
      privateKey: rsa.privateKey,
      certificate: other,
      password: 'pw',
      iterations: 10,
    });
    expect(certificate.fingerprintSha256).not.toBe(other.fingerprintSha256);
    expect(codeOf(() => importPkcs12(p12, 'pw'))).toBe('KEY_MISMATCH');
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

describe('PKCS#12 work limit', () => {
  it('refuses a file whose encrypted parts together ask for more key-derivation work than one import may spend', () => {
    // A file anyone can write (they choose the password): a valid MAC over an authenticated safe of
    // many password-encrypted parts, each within the per-part iteration limit. Every part costs a
    // PBKDF2 run on the event loop, so the parts together must be bounded, and before any runs.
    const password = 'pw';
    const salt = Buffer.alloc(8, 7);
    const iv = Buffer.alloc(16, 9);
    const iterations = 1_000_000;
    const key = pbkdf2Sync(password, salt, iterations, 16, 'sha1');
    const cipher = createCipheriv('aes-128-cbc', key, iv);
    const ciphertext = Buffer.concat([cipher.update(Buffer.from([0x30, 0x00])), cipher.final()]);
    const pbes2 = derSequence([
      derOid('1.2.840.113549.1.5.13'),
      derSequence([
        derSequence([
          derOid('1.2.840.113549.1.5.12'),
          derSequence([derOctetString(salt), derInteger(iterations)]),
        ]),
        derSequence([derOid('2.16.840.1.101.3.4.1.2'), derOctetString(iv)]),
      ]),
    ]);
    const encryptedPart = derSequence([
      derOid('1.2.840.113549.1.7.6'),
      derExplicit(
        0,
        derSequence([
          derInteger(0),
          derSequence([derOid('1.2.840.113549.1.7.1'), pbes2, derTlv(0x80, ciphertext)]),
        ]),
      ),
    ]);
    const authSafe = derSequence(Array.from({ length: 8 }, () => encryptedPart));
    const macSalt = Buffer.alloc(8, 3);
    const macKey = pkcs12Kdf('sha1', 64, Buffer.from('00700077' + '0000', 'hex'), macSalt, 1, 3, 20);
    const mac = createHmac('sha1', macKey).update(authSafe).digest();
    const pfx = derSequence([
      derInteger(3),
      derSequence([derOid('1.2.840.113549.1.7.1'), derExplicit(0, derOctetString(authSafe))]),
      derSequence([
        derSequence([derSequence([derOid('1.3.14.3.2.26'), derNull()]), derOctetString(mac)]),
        derOctetString(macSalt),
        derInteger(1),
      ]),
    ]);
    expect(codeOf(() => importPkcs12(pfx, password))).toBe('LIMIT_EXCEEDED');
    // Refused from the parameters alone, before the MAC key is derived: a wrong password would
    // otherwise be BAD_PASSWORD.
    expect(codeOf(() => importPkcs12(pfx, 'wrong'))).toBe('LIMIT_EXCEEDED');
  }, 120_000);
});
