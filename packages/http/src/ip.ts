import { HttpError } from './errors';

/** An address as 4 (IPv4) or 16 (IPv6) bytes. IPv4-mapped IPv6 addresses become their IPv4 form. */
export function parseIpAddress(text: string): Uint8Array | undefined {
  const zone = text.indexOf('%');
  const s = zone === -1 ? text : text.slice(0, zone);
  if (s.includes(':')) {
    const v6 = parseIpv6(s);
    if (v6 === undefined) return undefined;
    // ::ffff:a.b.c.d is how a dual-stack socket reports an IPv4 peer.
    if (isIpv4Mapped(v6)) return v6.subarray(12);
    return v6;
  }
  return parseIpv4(s);
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1]!.split(':') : [];
  const groups: number[] = [];
  const words = [...head, ...tail];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (i === words.length - 1 && w.includes('.')) {
      const v4 = parseIpv4(w);
      if (v4 === undefined) return undefined;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
    groups.push(Number.parseInt(w, 16));
  }
  const compressed = halves.length === 2;
  if (compressed ? groups.length > 7 : groups.length !== 8) return undefined;
  // Groups before '::' go first, then as many zero groups as are missing, then the rest.
  const headCount = compressed ? groupCount(head) : 8;
  const zeros = 8 - groups.length;
  const out = new Uint8Array(16);
  let g = 0;
  for (let i = 0; i < 8; i++) {
    if (i >= headCount && i < headCount + zeros) continue;
    const v = groups[g++]!;
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  }
  return out;
}

/** How many 16-bit groups a list of words stands for (an embedded IPv4 address counts as two). */
function groupCount(words: string[]): number {
  let n = 0;
  for (const w of words) n += w.includes('.') ? 2 : 1;
  return n;
}

function isIpv4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

interface Range {
  bytes: Uint8Array;
  bits: number;
}

/**
 * A set of addresses and CIDR ranges (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`), checked per request
 * against the connected peer's address.
 */
export class AddressSet {
  readonly #ranges: Range[];
  constructor(entries: readonly string[]) {
    this.#ranges = entries.map(parseRange);
  }
  get size(): number {
    return this.#ranges.length;
  }
  /** Whether `address` falls in one of the ranges. An unparsable address never does. */
  has(address: string | undefined): boolean {
    if (address === undefined || this.#ranges.length === 0) return false;
    const ip = parseIpAddress(address);
    if (ip === undefined) return false;
    for (const r of this.#ranges) if (r.bytes.length === ip.length && prefixMatches(r, ip)) return true;
    return false;
  }
}

function parseRange(entry: string): Range {
  const slash = entry.indexOf('/');
  const bytes = parseIpAddress(slash === -1 ? entry : entry.slice(0, slash));
  if (bytes === undefined)
    throw new HttpError('INVALID_OPTIONS', `not an IP address or CIDR range: ${entry}`);
  const writtenAsV6 = (slash === -1 ? entry : entry.slice(0, slash)).includes(':');
  const max = writtenAsV6 ? 128 : 32;
  let bits = bytes.length * 8;
  if (slash !== -1) {
    const p = entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
      throw new HttpError('INVALID_OPTIONS', `bad prefix length in ${entry}`);
    }
    bits = Number(p);
    // An IPv4-mapped range written in IPv6 form counts its prefix from the IPv4 part; one shorter
    // than the mapping prefix would reach beyond IPv4 and is refused rather than guessed at.
    if (writtenAsV6 && bytes.length === 4) {
      if (bits < 96) throw new HttpError('INVALID_OPTIONS', `IPv4-mapped range shorter than /96: ${entry}`);
      bits -= 96;
    }
  }
  return { bytes, bits };
}

function prefixMatches(r: Range, ip: Uint8Array): boolean {
  const full = r.bits >> 3;
  for (let i = 0; i < full; i++) if (r.bytes[i] !== ip[i]) return false;
  const rest = r.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (r.bytes[full]! & mask) === (ip[full]! & mask);
}
