// Single DES (FIPS 46-3) in CBC mode. Node's default OpenSSL provider has no DES-CBC, yet the micromdm
// SCEP client still encrypts its requests with it, so the decrypt path needs our own. Tables are the
// published standard ones; the round function merges each S-box with the P permutation once at load.

const S_BOXES = [
  '14 4 13 1 2 15 11 8 3 10 6 12 5 9 0 7 0 15 7 4 14 2 13 1 10 6 12 11 9 5 3 8 4 1 14 8 13 6 2 11 15 12 9 7 3 10 5 0 15 12 8 2 4 9 1 7 5 11 3 14 10 0 6 13',
  '15 1 8 14 6 11 3 4 9 7 2 13 12 0 5 10 3 13 4 7 15 2 8 14 12 0 1 10 6 9 11 5 0 14 7 11 10 4 13 1 5 8 12 6 9 3 2 15 13 8 10 1 3 15 4 2 11 6 7 12 0 5 14 9',
  '10 0 9 14 6 3 15 5 1 13 12 7 11 4 2 8 13 7 0 9 3 4 6 10 2 8 5 14 12 11 15 1 13 6 4 9 8 15 3 0 11 1 2 12 5 10 14 7 1 10 13 0 6 9 8 7 4 15 14 3 11 5 2 12',
  '7 13 14 3 0 6 9 10 1 2 8 5 11 12 4 15 13 8 11 5 6 15 0 3 4 7 2 12 1 10 14 9 10 6 9 0 12 11 7 13 15 1 3 14 5 2 8 4 3 15 0 6 10 1 13 8 9 4 5 11 12 7 2 14',
  '2 12 4 1 7 10 11 6 8 5 3 15 13 0 14 9 14 11 2 12 4 7 13 1 5 0 15 10 3 9 8 6 4 2 1 11 10 13 7 8 15 9 12 5 6 3 0 14 11 8 12 7 1 14 2 13 6 15 0 9 10 4 5 3',
  '12 1 10 15 9 2 6 8 0 13 3 4 14 7 5 11 10 15 4 2 7 12 9 5 6 1 13 14 0 11 3 8 9 14 15 5 2 8 12 3 7 0 4 10 1 13 11 6 4 3 2 12 9 5 15 10 11 14 1 7 6 0 8 13',
  '4 11 2 14 15 0 8 13 3 12 9 7 5 10 6 1 13 0 11 7 4 9 1 10 14 3 5 12 2 15 8 6 1 4 11 13 12 3 7 14 10 15 6 8 0 5 9 2 6 11 13 8 1 4 10 7 9 5 0 15 14 2 3 12',
  '13 2 8 4 6 15 11 1 10 9 3 14 5 0 12 7 1 15 13 8 10 3 7 4 12 5 6 11 0 14 9 2 7 11 4 1 9 12 14 2 0 6 10 13 15 3 5 8 2 1 14 7 4 10 8 13 15 12 9 0 3 5 6 11',
].map((row) => row.split(' ').map(Number));

const P = [
  16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22,
  11, 4, 25,
];

const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];

const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47,
  55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];

const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];

/** Initial permutation: rows start at 58,60,62,64,57,59,61,63 and step down by 8. */
const IP: number[] = [];
for (let r = 0; r < 8; r++) {
  const start = r < 4 ? 58 + 2 * r : 57 + 2 * (r - 4);
  for (let c = 0; c < 8; c++) IP.push(start - 8 * c);
}
const FP: number[] = new Array(64);
for (let i = 0; i < 64; i++) FP[(IP[i] as number) - 1] = i + 1;

/** SP[box * 64 + six-bit input] = P(S-box output placed at its nibble). */
const SP = new Int32Array(8 * 64);
for (let box = 0; box < 8; box++) {
  const s = S_BOXES[box] as number[];
  for (let v = 0; v < 64; v++) {
    const row = ((v >>> 4) & 2) | (v & 1);
    const col = (v >>> 1) & 15;
    const out = ((s[row * 16 + col] as number) << (28 - 4 * box)) >>> 0;
    let permuted = 0;
    for (let j = 0; j < 32; j++) {
      const bit = (out >>> (32 - (P[j] as number))) & 1;
      permuted |= bit << (31 - j);
    }
    SP[box * 64 + v] = permuted;
  }
}

/** 64-entry permutation of a block held as two big-endian 32-bit halves; result in `out[0..1]`. */
function permute64Slow(hi: number, lo: number, table: readonly number[], out: Int32Array): void {
  let a = 0;
  let b = 0;
  for (let i = 0; i < 64; i++) {
    const p = table[i] as number;
    const bit = p <= 32 ? (hi >>> (32 - p)) & 1 : (lo >>> (64 - p)) & 1;
    if (i < 32) a |= bit << (31 - i);
    else b |= bit << (63 - i);
  }
  out[0] = a;
  out[1] = b;
}

/**
 * A bit permutation is linear over OR, so it is the OR of the permutations of each input byte:
 * 8 byte positions x 256 values, two 32-bit halves each, computed once.
 */
function byteTables(table: readonly number[]): Int32Array {
  const t = new Int32Array(8 * 256 * 2);
  const tmp = new Int32Array(2);
  for (let pos = 0; pos < 8; pos++) {
    for (let v = 0; v < 256; v++) {
      const hi = pos < 4 ? v << (24 - 8 * pos) : 0;
      const lo = pos >= 4 ? v << (24 - 8 * (pos - 4)) : 0;
      permute64Slow(hi, lo, table, tmp);
      t[(pos * 256 + v) * 2] = tmp[0] as number;
      t[(pos * 256 + v) * 2 + 1] = tmp[1] as number;
    }
  }
  return t;
}

const IP_T = byteTables(IP);
const FP_T = byteTables(FP);

function permute64(hi: number, lo: number, t: Int32Array, out: Int32Array): void {
  let a = 0;
  let b = 0;
  for (let pos = 0; pos < 8; pos++) {
    const v = pos < 4 ? (hi >>> (24 - 8 * pos)) & 0xff : (lo >>> (24 - 8 * (pos - 4))) & 0xff;
    const i = (pos * 256 + v) * 2;
    a |= t[i] as number;
    b |= t[i + 1] as number;
  }
  out[0] = a;
  out[1] = b;
}

/** Expanded DES key: 16 rounds × 8 six-bit subkey chunks, in encryption order. */
export type DesKeySchedule = Uint8Array;

/** Derives the 16 round keys from an 8-byte key (parity bits ignored). */
export function desKeySchedule(key: Uint8Array): DesKeySchedule {
  if (key.length !== 8) throw new RangeError('DES key must be 8 bytes');
  const bits = new Uint8Array(64);
  for (let i = 0; i < 64; i++) bits[i] = ((key[i >>> 3] as number) >>> (7 - (i & 7))) & 1;
  const cd = new Uint8Array(56);
  for (let i = 0; i < 56; i++) cd[i] = bits[(PC1[i] as number) - 1] as number;
  const schedule = new Uint8Array(128);
  const tmp = new Uint8Array(28);
  for (let round = 0; round < 16; round++) {
    const shift = SHIFTS[round] as number;
    for (const base of [0, 28]) {
      for (let i = 0; i < 28; i++) tmp[i] = cd[base + ((i + shift) % 28)] as number;
      cd.set(tmp, base);
    }
    for (let chunk = 0; chunk < 8; chunk++) {
      let v = 0;
      for (let j = 0; j < 6; j++) v = (v << 1) | (cd[(PC2[chunk * 6 + j] as number) - 1] as number);
      schedule[round * 8 + chunk] = v;
    }
  }
  return schedule;
}

const scratch = new Int32Array(2);

/** Runs the 16 rounds on one block in place (`decrypt` walks the round keys backwards). */
function desBlock(ks: DesKeySchedule, block: Uint8Array, offset: number, decrypt: boolean): void {
  const hi =
    ((block[offset] as number) << 24) |
    ((block[offset + 1] as number) << 16) |
    ((block[offset + 2] as number) << 8) |
    (block[offset + 3] as number);
  const lo =
    ((block[offset + 4] as number) << 24) |
    ((block[offset + 5] as number) << 16) |
    ((block[offset + 6] as number) << 8) |
    (block[offset + 7] as number);
  permute64(hi, lo, IP_T, scratch);
  let l = scratch[0] as number;
  let r = scratch[1] as number;
  for (let round = 0; round < 16; round++) {
    const k = (decrypt ? 15 - round : round) * 8;
    // E expansion: chunk i covers bits 4i..4i+5 (1-based, cyclic) of R, i.e. of R rotated right by one.
    const rr = (r >>> 1) | (r << 31);
    const f =
      (SP[((rr >>> 26) & 0x3f) ^ (ks[k] as number)] as number) |
      (SP[64 + (((rr >>> 22) & 0x3f) ^ (ks[k + 1] as number))] as number) |
      (SP[128 + (((rr >>> 18) & 0x3f) ^ (ks[k + 2] as number))] as number) |
      (SP[192 + (((rr >>> 14) & 0x3f) ^ (ks[k + 3] as number))] as number) |
      (SP[256 + (((rr >>> 10) & 0x3f) ^ (ks[k + 4] as number))] as number) |
      (SP[320 + (((rr >>> 6) & 0x3f) ^ (ks[k + 5] as number))] as number) |
      (SP[384 + (((rr >>> 2) & 0x3f) ^ (ks[k + 6] as number))] as number) |
      (SP[448 + ((((rr & 0xf) << 2) | (rr >>> 30)) ^ (ks[k + 7] as number))] as number);
    const next = l ^ f;
    l = r;
    r = next;
  }
  // The last round is not swapped: the output is R16 || L16.
  permute64(r, l, FP_T, scratch);
  const a = scratch[0] as number;
  const b = scratch[1] as number;
  block[offset] = a >>> 24;
  block[offset + 1] = a >>> 16;
  block[offset + 2] = a >>> 8;
  block[offset + 3] = a;
  block[offset + 4] = b >>> 24;
  block[offset + 5] = b >>> 16;
  block[offset + 6] = b >>> 8;
  block[offset + 7] = b;
}

/** Encrypts one 8-byte block in place (ECB primitive; used by tests and CBC below). */
export function desEncryptBlock(ks: DesKeySchedule, block: Uint8Array, offset = 0): void {
  desBlock(ks, block, offset, false);
}

/** Decrypts one 8-byte block in place. */
export function desDecryptBlock(ks: DesKeySchedule, block: Uint8Array, offset = 0): void {
  desBlock(ks, block, offset, true);
}

/**
 * DES-CBC decryption without padding removal: returns a new buffer the length of `data` (a multiple
 * of 8). Callers remove padding themselves so that all padding failures share one error path.
 */
export function desCbcDecryptRaw(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  if (iv.length !== 8) throw new RangeError('DES IV must be 8 bytes');
  if (data.length % 8 !== 0) throw new RangeError('DES-CBC input is not a whole number of blocks');
  const ks = desKeySchedule(key);
  const out = new Uint8Array(data);
  for (let off = 0; off < out.length; off += 8) {
    desBlock(ks, out, off, true);
    const prev = off === 0 ? iv : data;
    const base = off === 0 ? 0 : off - 8;
    for (let i = 0; i < 8; i++) out[off + i] = (out[off + i] as number) ^ (prev[base + i] as number);
  }
  return out;
}

/** DES-CBC encryption of whole blocks (no padding added); tests use it to cross-check the decrypt path. */
export function desCbcEncryptRaw(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  if (iv.length !== 8) throw new RangeError('DES IV must be 8 bytes');
  if (data.length % 8 !== 0) throw new RangeError('DES-CBC input is not a whole number of blocks');
  const ks = desKeySchedule(key);
  const out = new Uint8Array(data);
  for (let off = 0; off < out.length; off += 8) {
    const prev = off === 0 ? iv : out;
    const base = off === 0 ? 0 : off - 8;
    for (let i = 0; i < 8; i++) out[off + i] = (out[off + i] as number) ^ (prev[base + i] as number);
    desBlock(ks, out, off, false);
  }
  return out;
}
