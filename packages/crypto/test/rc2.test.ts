import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { requirePeer } from '@mdmkit/test-support';
import { describe, expect, it } from 'vitest';
import {
  rc2CbcDecryptRaw,
  rc2CbcEncryptRaw,
  rc2DecryptBlock,
  rc2EncryptBlock,
  rc2KeySchedule,
} from '../src/rc2';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('RC2 block (RFC 2268 section 5 vectors)', () => {
  const vectors: [string, number, string, string][] = [
    ['0000000000000000', 63, '0000000000000000', 'ebb773f993278eff'],
    ['ffffffffffffffff', 64, 'ffffffffffffffff', '278b27e42e2f0d49'],
    ['3000000000000000', 64, '1000000000000001', '30649edf9be7d2c2'],
    ['88', 64, '0000000000000000', '61a8a244adacccf0'],
    ['88bca90e90875a', 64, '0000000000000000', '6ccf4308974c267f'],
    ['88bca90e90875a7f0f79c384627bafb2', 64, '0000000000000000', '1a807d272bbe5db1'],
    ['88bca90e90875a7f0f79c384627bafb2', 128, '0000000000000000', '2269552ab0f85ca6'],
  ];
  for (const [key, bits, pt, ct] of vectors) {
    it(`key ${key} (${bits} bits)`, () => {
      const ks = rc2KeySchedule(hex(key), bits);
      const block = hex(pt);
      rc2EncryptBlock(ks, block);
      expect(toHex(block)).toBe(ct);
      rc2DecryptBlock(ks, block);
      expect(toHex(block)).toBe(pt);
    });
  }

  it('rejects out-of-range parameters', () => {
    expect(() => rc2KeySchedule(new Uint8Array(0), 40)).toThrow(RangeError);
    expect(() => rc2KeySchedule(new Uint8Array(5), 0)).toThrow(RangeError);
  });
});

const ok = requirePeer(
  { name: 'openssl', probe: ['openssl', 'list', '-providers', '-provider', 'legacy'] },
  'RC2-CBC against the OpenSSL legacy provider',
);

describe.skipIf(!ok)('RC2-CBC against openssl', () => {
  for (const [cipher, keyLen, bits] of [
    ['rc2-40-cbc', 5, 40],
    ['rc2-64-cbc', 8, 64],
    ['rc2-cbc', 16, 128],
  ] as const) {
    it(`matches openssl enc -${cipher} both ways`, () => {
      const key = randomBytes(keyLen);
      const iv = randomBytes(8);
      const data = randomBytes(48);
      const r = spawnSync(
        'openssl',
        [
          'enc',
          `-${cipher}`,
          '-nopad',
          '-K',
          toHex(key),
          '-iv',
          toHex(iv),
          '-e',
          '-provider',
          'legacy',
          '-provider',
          'default',
        ],
        { input: data },
      );
      expect(r.status).toBe(0);
      expect(toHex(rc2CbcEncryptRaw(key, bits, iv, data))).toBe(toHex(r.stdout));
      expect(toHex(rc2CbcDecryptRaw(key, bits, iv, r.stdout))).toBe(toHex(data));
    });
  }
});
