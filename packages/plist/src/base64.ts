// Strict base64 for <data>: whitespace anywhere is skipped, anything else outside the alphabet is an
// error, '=' only at the end; missing padding is tolerated (as Apple's reader does).

const DECODE = new Int8Array(256).fill(-1);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
const WS = -2;
DECODE[0x20] = WS;
DECODE[0x09] = WS;
DECODE[0x0a] = WS;
DECODE[0x0d] = WS;
const PAD = -3;
DECODE[0x3d] = PAD;

/** Decodes `src[start:end]`; returns the bytes, or the offset (relative to start) of the first bad byte. */
export function decodeBase64(src: Uint8Array, start: number, end: number): Uint8Array | number {
  const out = new Uint8Array(Math.ceil(((end - start) * 3) / 4));
  let o = 0;
  let acc = 0;
  let n = 0;
  let pad = 0;
  for (let i = start; i < end; i++) {
    const d = DECODE[src[i]!]!;
    if (d >= 0) {
      if (pad > 0) return i - start;
      acc = (acc << 6) | d;
      if (++n === 4) {
        out[o++] = acc >> 16;
        out[o++] = (acc >> 8) & 0xff;
        out[o++] = acc & 0xff;
        acc = 0;
        n = 0;
      }
    } else if (d === PAD) {
      // Padding may only complete a group of 2 or 3 characters.
      if (n + pad < 2 || n + pad >= 4) return i - start;
      pad++;
    } else if (d !== WS) return i - start;
  }
  if (pad > 0 && n + pad !== 4) return end - start;
  if (n === 1) return end - start;
  if (n === 2) out[o++] = acc >> 4;
  else if (n === 3) {
    out[o++] = acc >> 10;
    out[o++] = (acc >> 2) & 0xff;
  }
  return o === out.length ? out : out.slice(0, o);
}
