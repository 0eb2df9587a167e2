import { latin1Slice } from './byte-writer';

// Keys and short values repeat a lot (every app in a list has the same keys): a small table of
// decoded ASCII strings saves both the allocation and V8's later interning of the string as a
// property name. Module-wide, since strings are immutable. A hit is confirmed against a copy of the entry's bytes, so a
// collision only costs a miss, never a wrong string.
export const MAX_CACHED = 32;
const SLOTS = 4096;
const CACHE_MASK = SLOTS - 1;
const cache: (string | undefined)[] = new Array(SLOTS).fill(undefined);
const lengths = new Int32Array(SLOTS).fill(-1);
const bytes = new Uint8Array(SLOTS * MAX_CACHED);

export function cachedAscii(buf: Uint8Array, start: number, n: number): string {
  if (n === 0) return '';
  // The slot comes from the length and eight sampled bytes (constant time); the byte comparison below
  // is what makes a hit exact.
  const last = start + n - 1;
  const m = start + (n >> 1);
  const q = n >> 2;
  let h = Math.imul(n ^ (buf[start]! << 8) ^ (buf[last]! << 16) ^ (buf[m]! << 24), 0x9e3779b1);
  h = Math.imul(
    h ^
      buf[n > 1 ? start + 1 : start]! ^
      (buf[n > 1 ? last - 1 : last]! << 8) ^
      (buf[start + q]! << 16) ^
      (buf[last - q]! << 24),
    0x85ebca6b,
  );
  h = Math.imul(h ^ buf[n > 1 ? m - 1 : m]!, 0xc2b2ae35);
  const slot = (h ^ (h >>> 16)) & CACHE_MASK;
  const base = slot * MAX_CACHED;
  if (lengths[slot] === n) {
    let i = 0;
    while (i < n && bytes[base + i] === buf[start + i]) i++;
    if (i === n) return cache[slot]!;
  }
  const s = latin1Slice(buf as Buffer, start, start + n);
  cache[slot] = s;
  lengths[slot] = n;
  for (let i = 0; i < n; i++) bytes[base + i] = buf[start + i]!;
  return s;
}
