import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { requirePeer } from '@mdmkit/test-support';
import { describe, expect, it } from 'vitest';
import {
  desCbcDecryptRaw,
  desCbcEncryptRaw,
  desDecryptBlock,
  desEncryptBlock,
  desKeySchedule,
} from '../src/des';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('DES block', () => {
  // Published single-block vectors (FIPS 81 / common textbook examples).
  const vectors: [string, string, string][] = [
    ['133457799bbcdff1', '0123456789abcdef', '85e813540f0ab405'],
    ['0e329232ea6d0d73', '8787878787878787', '0000000000000000'],
    ['0123456789abcdef', '4e6f772069732074', '3fa40e8a984d4815'],
    ['0101010101010101', '95f8a5e5dd31d900', '8000000000000000'],
  ];
  for (const [key, pt, ct] of vectors) {
    it(`key ${key}: ${pt} -> ${ct}`, () => {
      const ks = desKeySchedule(hex(key));
      const block = hex(pt);
      desEncryptBlock(ks, block);
      expect(toHex(block)).toBe(ct);
      desDecryptBlock(ks, block);
      expect(toHex(block)).toBe(pt);
    });
  }

  it('rejects keys that are not 8 bytes', () => {
    expect(() => desKeySchedule(new Uint8Array(7))).toThrow(RangeError);
  });

  it('CBC round-trips and chains blocks', () => {
    const key = randomBytes(8);
    const iv = randomBytes(8);
    const data = new Uint8Array(64).fill(0x41);
    const ct = desCbcEncryptRaw(key, iv, data);
    // Equal plaintext blocks must give different ciphertext blocks in CBC.
    expect(toHex(ct.subarray(0, 8))).not.toBe(toHex(ct.subarray(8, 16)));
    expect(toHex(desCbcDecryptRaw(key, iv, ct))).toBe(toHex(data));
  });
});

const ok = requirePeer(
  { name: 'openssl', probe: ['openssl', 'list', '-providers', '-provider', 'legacy'] },
  'DES-CBC against the OpenSSL legacy provider',
);

describe.skipIf(!ok)('DES-CBC against openssl', () => {
  it('decrypts what `openssl enc -des-cbc` encrypts, and the reverse', () => {
    for (let i = 0; i < 5; i++) {
      const key = randomBytes(8);
      const iv = randomBytes(8);
      const data = randomBytes(8 * (1 + i * 7));
      const args = ['enc', '-des-cbc', '-nopad', '-K', toHex(key), '-iv', toHex(iv)];
      const prov = ['-provider', 'legacy', '-provider', 'default'];
      const r = spawnSync('openssl', [...args, '-e', ...prov], { input: data });
      expect(r.status).toBe(0);
      expect(toHex(desCbcDecryptRaw(key, iv, r.stdout))).toBe(toHex(data));
      const ours = desCbcEncryptRaw(key, iv, data);
      expect(toHex(ours)).toBe(toHex(r.stdout));
    }
  });
});
