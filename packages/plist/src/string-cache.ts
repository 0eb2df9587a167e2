import { latin1Slice } from './byte-writer';

// Keys and short values repeat a lot (every app in a list has the same keys): a small table of
// decoded ASCII strings, checked byte by byte, saves both the allocation and V8's later interning
// of the string as a property name. Module-wide, since strings are immutable.
export const MAX_CACHED = 32;
const CACHE_MASK = 4095;
const cache: (string | undefined)[] = new Array(CACHE_MASK + 1).fill(undefined);

export function cachedAscii(buf: Buffer, start: number, n: number): string {
  let h = n;
  for (let i = start; i < start + n; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
  const slot = (h ^ (h >>> 13)) & CACHE_MASK;
  const hit = cache[slot];
  if (hit !== undefined && hit.length === n) {
    let i = 0;
    while (i < n && hit.charCodeAt(i) === buf[start + i]) i++;
    if (i === n) return hit;
  }
  const s = n === 0 ? '' : latin1Slice(buf, start, start + n);
  cache[slot] = s;
  return s;
}
