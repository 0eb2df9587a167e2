// RC2 (RFC 2268) in CBC mode. PKCS#12 files exported by Keychain Access, Windows and `openssl pkcs12
// -legacy` protect their certificates with pbeWithSHAAnd40BitRC2-CBC, which Node's default OpenSSL
// provider refuses, so importing them needs our own RC2.

// The RFC's "PITABLE", a fixed permutation of 0..255 derived from the digits of pi.
const PITABLE = Uint8Array.from(
  Buffer.from(
    'd978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2179a59f587b34f1361456d8d09817d32' +
      'bd8f40eb86b77b0bf09521225c6b4e8254d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626' +
      '6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed708e8eade8052eef784aa72ac354d6a2a' +
      '961ad2715a1549744b9fd05e0418a4ecc2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731' +
      '2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a90d38341bab33ffb0bb480c5fb9b1cd2e' +
      'c5f3db47e5a59c770aa62068fe7fc1ad',
    'hex',
  ),
);

/** Expanded RC2 key: 64 sixteen-bit words. */
export type Rc2KeySchedule = Uint16Array;

/** RFC 2268 key expansion for `key` (1..128 bytes) with `effectiveBits` (1..1024) effective key bits. */
export function rc2KeySchedule(key: Uint8Array, effectiveBits: number): Rc2KeySchedule {
  const t = key.length;
  if (t < 1 || t > 128) throw new RangeError('RC2 key must be 1..128 bytes');
  if (!Number.isInteger(effectiveBits) || effectiveBits < 1 || effectiveBits > 1024) {
    throw new RangeError('RC2 effective key bits must be 1..1024');
  }
  const l = new Uint8Array(128);
  l.set(key);
  for (let i = t; i < 128; i++)
    l[i] = PITABLE[((l[i - 1] as number) + (l[i - t] as number)) & 0xff] as number;
  const t8 = (effectiveBits + 7) >>> 3;
  const tm = 0xff >>> (8 * t8 - effectiveBits);
  l[128 - t8] = PITABLE[(l[128 - t8] as number) & tm] as number;
  for (let i = 127 - t8; i >= 0; i--) l[i] = PITABLE[(l[i + 1] as number) ^ (l[i + t8] as number)] as number;
  const k = new Uint16Array(64);
  for (let i = 0; i < 64; i++) k[i] = (l[2 * i] as number) | ((l[2 * i + 1] as number) << 8);
  return k;
}

const r = new Uint16Array(4);

function load(block: Uint8Array, off: number): void {
  for (let i = 0; i < 4; i++)
    r[i] = (block[off + 2 * i] as number) | ((block[off + 2 * i + 1] as number) << 8);
}

function store(block: Uint8Array, off: number): void {
  for (let i = 0; i < 4; i++) {
    const w = r[i] as number;
    block[off + 2 * i] = w & 0xff;
    block[off + 2 * i + 1] = w >>> 8;
  }
}

const ROT = [1, 2, 3, 5];

/** Encrypts one 8-byte block in place. */
export function rc2EncryptBlock(k: Rc2KeySchedule, block: Uint8Array, off = 0): void {
  load(block, off);
  let j = 0;
  for (let round = 0; round < 16; round++) {
    for (let i = 0; i < 4; i++) {
      const a = r[(i + 3) & 3] as number;
      const b = r[(i + 2) & 3] as number;
      const c = r[(i + 1) & 3] as number;
      const x = ((r[i] as number) + (k[j++] as number) + (a & b) + (~a & c)) & 0xffff;
      const s = ROT[i] as number;
      r[i] = (x << s) | (x >>> (16 - s));
    }
    // Mashing rounds follow mixing rounds 5 and 11.
    if (round === 4 || round === 10) {
      for (let i = 0; i < 4; i++) r[i] = (r[i] as number) + (k[(r[(i + 3) & 3] as number) & 63] as number);
    }
  }
  store(block, off);
}

/** Decrypts one 8-byte block in place. */
export function rc2DecryptBlock(k: Rc2KeySchedule, block: Uint8Array, off = 0): void {
  load(block, off);
  let j = 63;
  for (let round = 15; round >= 0; round--) {
    for (let i = 3; i >= 0; i--) {
      const x = r[i] as number;
      const s = ROT[i] as number;
      const rotated = ((x >>> s) | (x << (16 - s))) & 0xffff;
      const a = r[(i + 3) & 3] as number;
      const b = r[(i + 2) & 3] as number;
      const c = r[(i + 1) & 3] as number;
      r[i] = rotated - (k[j--] as number) - (a & b) - (~a & c);
    }
    if (round === 11 || round === 5) {
      for (let i = 3; i >= 0; i--) r[i] = (r[i] as number) - (k[(r[(i + 3) & 3] as number) & 63] as number);
    }
  }
  store(block, off);
}

/** RC2-CBC decryption without padding removal (whole blocks). */
export function rc2CbcDecryptRaw(
  key: Uint8Array,
  effectiveBits: number,
  iv: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  if (iv.length !== 8) throw new RangeError('RC2 IV must be 8 bytes');
  if (data.length % 8 !== 0) throw new RangeError('RC2-CBC input is not a whole number of blocks');
  const k = rc2KeySchedule(key, effectiveBits);
  const out = new Uint8Array(data);
  for (let off = 0; off < out.length; off += 8) {
    rc2DecryptBlock(k, out, off);
    const prev = off === 0 ? iv : data;
    const base = off === 0 ? 0 : off - 8;
    for (let i = 0; i < 8; i++) out[off + i] = (out[off + i] as number) ^ (prev[base + i] as number);
  }
  return out;
}

/** RC2-CBC encryption of whole blocks (no padding added). */
export function rc2CbcEncryptRaw(
  key: Uint8Array,
  effectiveBits: number,
  iv: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  if (iv.length !== 8) throw new RangeError('RC2 IV must be 8 bytes');
  if (data.length % 8 !== 0) throw new RangeError('RC2-CBC input is not a whole number of blocks');
  const k = rc2KeySchedule(key, effectiveBits);
  const out = new Uint8Array(data);
  for (let off = 0; off < out.length; off += 8) {
    const prev = off === 0 ? iv : out;
    const base = off === 0 ? 0 : off - 8;
    for (let i = 0; i < 8; i++) out[off + i] = (out[off + i] as number) ^ (prev[base + i] as number);
    rc2EncryptBlock(k, out, off);
  }
  return out;
}
