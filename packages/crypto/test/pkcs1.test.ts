import { constants, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rsaModulusBytes, rsaPkcs1v15DecryptImplicit } from '../src/pkcs1';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const k = rsaModulusBytes(privateKey);

/** Builds an encoded message by hand and RSA-encrypts it without padding. */
function rawEncrypt(em: Uint8Array): Uint8Array {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, em);
}

function em(message: Uint8Array, tweak?: (b: Uint8Array) => void): Uint8Array {
  const b = new Uint8Array(k);
  b[0] = 0;
  b[1] = 2;
  const ps = k - message.length - 3;
  for (let i = 0; i < ps; i++) b[2 + i] = 1 + (i % 255);
  b[2 + ps] = 0;
  b.set(message, 3 + ps);
  tweak?.(b);
  return b;
}

describe('PKCS#1 v1.5 unpadding with implicit rejection', () => {
  it('returns the key from a well-formed block (also from standard padding)', () => {
    const key = randomBytes(32);
    expect(Buffer.from(rsaPkcs1v15DecryptImplicit(privateKey, rawEncrypt(em(key)), 32))).toEqual(key);
    const std = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, key);
    expect(Buffer.from(rsaPkcs1v15DecryptImplicit(privateKey, std, 32))).toEqual(key);
  });

  const bad: [string, (b: Uint8Array) => void][] = [
    [
      'first byte not zero',
      (b) => {
        b[0] = 1;
      },
    ],
    [
      'block type 1',
      (b) => {
        b[1] = 1;
      },
    ],
    [
      'zero inside the padding string',
      (b) => {
        b[5] = 0;
      },
    ],
    [
      'missing separator',
      (b) => {
        b[k - 33] = 7;
      },
    ],
  ];
  for (const [name, tweak] of bad) {
    it(`gives a deterministic pseudo-random key for: ${name}`, () => {
      const key = randomBytes(32);
      const ct = rawEncrypt(em(key, tweak));
      const a = rsaPkcs1v15DecryptImplicit(privateKey, ct, 32);
      const b = rsaPkcs1v15DecryptImplicit(privateKey, ct, 32);
      expect(a.length).toBe(32);
      expect(Buffer.from(a)).toEqual(Buffer.from(b));
      expect(Buffer.from(a)).not.toEqual(key);
    });
  }

  it('rejects a message of the wrong length without an error', () => {
    const key = randomBytes(24);
    const ct = rawEncrypt(em(key));
    const out = rsaPkcs1v15DecryptImplicit(privateKey, ct, 32);
    expect(out.length).toBe(32);
    expect(Buffer.from(out.subarray(8))).not.toEqual(key.subarray(0, 24));
  });

  it('different bad ciphertexts give different keys; garbage of any length never throws', () => {
    const a = rsaPkcs1v15DecryptImplicit(privateKey, randomBytes(k), 16);
    const b = rsaPkcs1v15DecryptImplicit(privateKey, randomBytes(k), 16);
    expect(Buffer.from(a)).not.toEqual(Buffer.from(b));
    expect(rsaPkcs1v15DecryptImplicit(privateKey, new Uint8Array(3), 16).length).toBe(16);
    expect(rsaPkcs1v15DecryptImplicit(privateKey, new Uint8Array(k).fill(0xff), 16).length).toBe(16);
  });

  it('refuses a non-RSA key', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => rsaPkcs1v15DecryptImplicit(ec.privateKey, new Uint8Array(256), 16)).toThrow(TypeError);
  });
});
