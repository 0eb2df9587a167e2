// Hand-assembled binary property lists for the hostile-document tests: each object is given as its
// raw encoding, references and offsets are written big-endian in the sizes asked for.

/** An object marker with its count: the low nibble when below 15, else an `int` length field. */
export function marker(type: number, count: number): number[] {
  if (count < 15) return [(type << 4) | count];
  if (count < 0x100) return [(type << 4) | 0x0f, 0x10, count];
  if (count < 0x10000) return [(type << 4) | 0x0f, 0x11, count >> 8, count & 0xff];
  return [(type << 4) | 0x0f, 0x12, count >>> 24, (count >> 16) & 0xff, (count >> 8) & 0xff, count & 0xff];
}

/** `refs.length` references of `refSize` bytes each. */
export function refBytes(refs: number[], refSize: number): Uint8Array {
  const out = new Uint8Array(refs.length * refSize);
  let p = 0;
  for (const r of refs) for (let i = refSize - 1; i >= 0; i--) out[p++] = Math.floor(r / 256 ** i) & 0xff;
  return out;
}

/** An array object holding `refs`. */
export function arrayObject(refs: number[], refSize: number): Uint8Array {
  return concat([Uint8Array.from(marker(0xa, refs.length)), refBytes(refs, refSize)]);
}

/** A dict object: keys first, then values, as the format stores them. */
export function dictObject(keys: number[], values: number[], refSize: number): Uint8Array {
  return concat([Uint8Array.from(marker(0xd, keys.length)), refBytes([...keys, ...values], refSize)]);
}

/** A data object of `n` bytes. */
export function dataObject(n: number): Uint8Array {
  return concat([Uint8Array.from(marker(0x4, n)), new Uint8Array(n).fill(0x41)]);
}

/** An ASCII string object. */
export function asciiObject(s: string): Uint8Array {
  return concat([Uint8Array.from(marker(0x5, s.length)), Uint8Array.from(s, (c) => c.charCodeAt(0))]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/**
 * A whole document as a plain `Uint8Array` (never a `Buffer`, the form a WHATWG request body has),
 * with object 0 at the top.
 */
export function bplist(objects: Uint8Array[], refSize: number): Uint8Array {
  const header = Uint8Array.from('bplist00', (c) => c.charCodeAt(0));
  const offsets: number[] = [];
  let at = header.length;
  for (const o of objects) {
    offsets.push(at);
    at += o.length;
  }
  const offsetSize = at < 0x100 ? 1 : at < 0x10000 ? 2 : at < 0x1000000 ? 3 : 4;
  const table = refBytes(offsets, offsetSize);
  const trailer = new Uint8Array(32);
  const view = new DataView(trailer.buffer);
  trailer[6] = offsetSize;
  trailer[7] = refSize;
  view.setBigUint64(8, BigInt(objects.length));
  view.setBigUint64(16, 0n);
  view.setBigUint64(24, BigInt(at));
  return concat([header, ...objects, table, trailer]);
}
