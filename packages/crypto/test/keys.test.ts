import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  exportPrivateKey,
  exportPublicKey,
  generateKeyPair,
  importPrivateKey,
  importPublicKey,
  keysMatch,
} from '../src/index';
import { publicKeyFromSpki } from '../src/keys';

async function code(p: () => unknown): Promise<string | undefined> {
  try {
    await p();
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    return (e as CryptoError).code;
  }
  return undefined;
}

describe('keys', () => {
  it('generates RSA and EC keys of the requested size', async () => {
    const rsa = await generateKeyPair({ type: 'rsa', bits: 3072 });
    expect(rsa.privateKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    const p256 = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    expect(p256.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const p384 = await generateKeyPair({ type: 'ec', curve: 'P-384' });
    expect(p384.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(await code(() => generateKeyPair({ type: 'rsa', bits: 1024 as 2048 }))).toBe(
      'UNSUPPORTED_ALGORITHM',
    );
    expect(await code(() => generateKeyPair({ type: 'ec', curve: 'P-521' as 'P-256' }))).toBe(
      'UNSUPPORTED_ALGORITHM',
    );
  });

  it('exports and re-imports in every format', async () => {
    const rsa = await generateKeyPair({ type: 'rsa' });
    const ec = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    const data = Buffer.from('payload');
    for (const [kp, formats] of [
      [rsa, ['pkcs8-pem', 'pkcs8-der', 'pkcs1-pem', 'pkcs1-der'] as const],
      [ec, ['pkcs8-pem', 'pkcs8-der', 'sec1-pem', 'sec1-der'] as const],
    ] as const) {
      for (const f of formats) {
        const out = exportPrivateKey(kp.privateKey, f);
        expect(typeof out === 'string').toBe(f.endsWith('pem'));
        const back = importPrivateKey(out);
        expect(verify('sha256', data, kp.publicKey, sign('sha256', data, back))).toBe(true);
      }
    }
    expect(exportPrivateKey(rsa.privateKey, 'pkcs1-pem')).toMatch(/BEGIN RSA PRIVATE KEY/);
    expect(exportPrivateKey(ec.privateKey, 'sec1-pem')).toMatch(/BEGIN EC PRIVATE KEY/);
    for (const f of ['spki-pem', 'spki-der', 'pkcs1-pem', 'pkcs1-der'] as const) {
      const pub = importPublicKey(exportPublicKey(rsa.privateKey, f));
      expect(keysMatch(rsa.privateKey, pub)).toBe(true);
    }
    expect(keysMatch(ec.privateKey, importPublicKey(exportPublicKey(ec.publicKey, 'spki-der')))).toBe(true);
    expect(keysMatch(ec.privateKey, rsa.publicKey)).toBe(false);
    expect(await code(() => exportPrivateKey(ec.privateKey, 'pkcs1-pem'))).toBe('INVALID_KEY');
    expect(await code(() => exportPrivateKey(rsa.privateKey, 'sec1-der'))).toBe('INVALID_KEY');
  });

  it('encrypted PKCS#8 needs the right passphrase', async () => {
    const { privateKey, publicKey } = await generateKeyPair({ type: 'ec', curve: 'P-384' });
    const pem = exportPrivateKey(privateKey, 'pkcs8-pem', { passphrase: 'correct horse' }) as string;
    expect(pem).toMatch(/ENCRYPTED PRIVATE KEY/);
    expect(keysMatch(importPrivateKey(pem, { passphrase: 'correct horse' }), publicKey)).toBe(true);
    expect(await code(() => importPrivateKey(pem))).toBe('BAD_PASSWORD');
    expect(await code(() => importPrivateKey(pem, { passphrase: 'wrong' }))).toBe('BAD_PASSWORD');
    const der = exportPrivateKey(privateKey, 'pkcs8-der', { passphrase: 'pw' }) as Uint8Array;
    expect(keysMatch(importPrivateKey(der, { passphrase: 'pw' }), publicKey)).toBe(true);
  });

  it('rejects garbage with INVALID_KEY', async () => {
    expect(await code(() => importPrivateKey(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)))).toBe(
      'INVALID_KEY',
    );
    expect(await code(() => importPrivateKey('not a key'))).toBe('INVALID_KEY');
    expect(await code(() => importPublicKey(Uint8Array.of(1, 2, 3)))).toBe('INVALID_KEY');
    const { privateKey } = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    expect(importPublicKey(privateKey).type).toBe('public');
    expect(createPublicKey(privateKey).asymmetricKeyType).toBe('ec');
  });

  it('publicKeyFromSpki imports RSA, EC and other keys identically to the generic SPKI import', () => {
    const keys = [
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey,
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey,
      generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).publicKey,
      generateKeyPairSync('ed25519').publicKey,
    ];
    for (const k of keys) {
      const spki = k.export({ type: 'spki', format: 'der' });
      const fast = publicKeyFromSpki(new Uint8Array(spki));
      expect(fast.asymmetricKeyType).toBe(k.asymmetricKeyType);
      expect(Buffer.compare(fast.export({ type: 'spki', format: 'der' }), spki)).toBe(0);
    }
    // An EC point that is not on the curve is refused.
    const spki = new Uint8Array(keys[1]!.export({ type: 'spki', format: 'der' }));
    spki[spki.length - 1]! ^= 1;
    expect(() => publicKeyFromSpki(spki)).toThrow(CryptoError);
  });
});
