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

const bytesView = new DataView(bytes.buffer);

export function cachedAscii(buf: Uint8Array, start: number, n: number): string {
  if (n === 0) return '';
  const slot = slotOf(buf, start, n);
  const base = slot * MAX_CACHED;
  if (lengths[slot] === n) {
    let i = 0;
    while (i < n && bytes[base + i] === buf[start + i]) i++;
    if (i === n) return cache[slot]!;
  }
  return fill(buf, start, n, slot);
}

/**
 * {@link cachedAscii} for a caller that holds a DataView over `buf` (same byte offset): the hit check
 * compares four bytes at a time.
 */
export function cachedAsciiView(buf: Uint8Array, view: DataView, start: number, n: number): string {
  if (n === 0) return '';
  let slot: number;
  if (n >= 4) {
    // The first, middle and last four bytes.
    let h = Math.imul(n ^ view.getInt32(start), 0x9e3779b1);
    h = Math.imul(h ^ view.getInt32(start + ((n - 4) >> 1)), 0x85ebca6b);
    h = Math.imul(h ^ view.getInt32(start + n - 4), 0xc2b2ae35);
    slot = (h ^ (h >>> 16)) & CACHE_MASK;
  } else slot = slotOf(buf, start, n);
  const base = slot * MAX_CACHED;
  if (lengths[slot] === n) {
    let i = 0;
    while (i + 4 <= n && bytesView.getInt32(base + i) === view.getInt32(start + i)) i += 4;
    while (i < n && bytes[base + i] === buf[start + i]) i++;
    if (i === n) return cache[slot]!;
  }
  return fill(buf, start, n, slot);
}

// The slot comes from the length and eight sampled bytes (constant time); the byte comparison of
// the callers is what makes a hit exact.
function slotOf(buf: Uint8Array, start: number, n: number): number {
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
  return (h ^ (h >>> 16)) & CACHE_MASK;
}

function fill(buf: Uint8Array, start: number, n: number, slot: number): string {
  const s = latin1Slice(buf as Buffer, start, start + n);
  const base = slot * MAX_CACHED;
  cache[slot] = s;
  lengths[slot] = n;
  for (let i = 0; i < n; i++) bytes[base + i] = buf[start + i]!;
  return s;
}
