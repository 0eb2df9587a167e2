import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BYPASS_CODE_ALPHABET,
  bypassCodeHash,
  createBypassCode,
  formatBypassCode,
  parseBypassCode,
  verifyBypassCode,
} from '../src/index';
import { pythonOk } from './support';

/** The escrow hash computed by python's hashlib, independently of our code. */
function pythonHash(bytes: Uint8Array): string {
  return execFileSync('python3', [
    '-c',
    'import hashlib,sys; print(hashlib.pbkdf2_hmac("sha256", bytes.fromhex(sys.argv[1]), b"\\0\\0\\0\\0", 50000, 32).hex())',
    Buffer.from(bytes).toString('hex'),
  ])
    .toString()
    .trim();
}

/** The code computed by python from the spec (5 bits per character, MSB first, dashes), not by us. */
function pythonCode(bytes: Uint8Array): string {
  return execFileSync('python3', [
    '-c',
    [
      'import sys',
      `A = "${BYPASS_CODE_ALPHABET}"`,
      'n = int(sys.argv[1], 16) << 2',
      'chars = "".join(A[(n >> (5 * (25 - i))) & 31] for i in range(26))',
      'out = ""',
      'for i, c in enumerate(chars, 1):',
      '    out += c + ("-" if i in (5, 10, 14, 18, 22) else "")',
      'print(out)',
    ].join('\n'),
    Buffer.from(bytes).toString('hex'),
  ])
    .toString()
    .trim();
}

describe('bypass code form', () => {
  it('writes 5 bits per character, most significant first, with dashes after 5, 10, 14, 18 and 22', () => {
    expect(formatBypassCode(new Uint8Array(16))).toBe('00000-00000-0000-0000-0000-0000');
    // All ones: 128 one bits then two zero padding bits, so the last character is 11100 = 'W'.
    expect(formatBypassCode(new Uint8Array(16).fill(0xff))).toBe('ZZZZZ-ZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZW');
    // 0x08 then zeros: the first 5 bits are 00001.
    expect(formatBypassCode(Uint8Array.of(0x08, ...new Uint8Array(15)))).toBe(
      '10000-00000-0000-0000-0000-0000',
    );
  });

  it('reads a code back to its bytes, whatever the case and dashes', () => {
    for (let i = 0; i < 50; i++) {
      const b = new Uint8Array(randomBytes(16));
      const code = formatBypassCode(b);
      expect(parseBypassCode(code)).toEqual(b);
      expect(parseBypassCode(code.toLowerCase().replaceAll('-', ''))).toEqual(b);
    }
  });

  it('refuses wrong lengths, look-alike letters and non-zero padding', () => {
    for (const bad of [
      '',
      '00000-00000-0000-0000-0000-000',
      '00000-00000-0000-0000-0000-00000',
      'O0000-00000-0000-0000-0000-0000',
      'B0000-00000-0000-0000-0000-0000',
      '00000-00000-0000-0000-0000-0001',
      'x'.repeat(100),
    ]) {
      expect(() => parseBypassCode(bad)).toThrow(
        expect.objectContaining({ name: 'EscrowError', code: 'INVALID_BYPASS_CODE' }),
      );
    }
    expect(() => parseBypassCode(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'INVALID_BYPASS_CODE' }),
    );
    expect(() => formatBypassCode(new Uint8Array(15))).toThrow(
      expect.objectContaining({ code: 'INVALID_BYPASS_CODE' }),
    );
  });
});

describe.skipIf(!pythonOk('bypass-code vectors from python hashlib'))(
  'bypass-code vectors computed by python',
  () => {
    const vectors = [
      new Uint8Array(16),
      new Uint8Array(16).fill(0xff),
      Uint8Array.from({ length: 16 }, (_, i) => i * 17),
      new Uint8Array(randomBytes(16)),
    ];

    it('formats codes exactly as the spec computed in python', () => {
      for (const v of vectors) expect(formatBypassCode(v)).toBe(pythonCode(v));
    });

    it('hashes as PBKDF2-HMAC-SHA256 over the raw bytes, 4 zero-byte salt, 50 000 iterations, 32 bytes', async () => {
      for (const v of vectors) expect(await bypassCodeHash(v)).toBe(pythonHash(v));
    });

    it('creates codes whose hash python reproduces, and verifies them', async () => {
      const c = await createBypassCode();
      expect(c.code).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}(-[0-9A-Z]{4}){4}$/);
      expect(c.hash).toBe(pythonHash(parseBypassCode(c.code)));
      expect(await verifyBypassCode(c.code, c.hash)).toBe(true);
      expect(await verifyBypassCode(c.code.toLowerCase(), c.hash.toUpperCase())).toBe(true);
    });
  },
);

describe('bypass-code verification', () => {
  it('is false for another code, a malformed code, and an error for a malformed hash', async () => {
    const a = await createBypassCode();
    const b = await createBypassCode();
    expect(await verifyBypassCode(b.code, a.hash)).toBe(false);
    expect(await verifyBypassCode('not a code', a.hash)).toBe(false);
    await expect(verifyBypassCode(a.code, 'abc')).rejects.toMatchObject({ code: 'INVALID_BYPASS_CODE' });
  });

  it('does not block the event loop while hashing', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await Promise.all(Array.from({ length: 4 }, () => bypassCodeHash(new Uint8Array(16))));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});
