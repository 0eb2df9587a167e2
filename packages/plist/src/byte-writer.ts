/**
 * Buffer's per-encoding methods (`utf8Write`, `latin1Slice`, …) skip the argument normalisation of
 * `write`/`toString`, which matters for millions of short strings. They exist on every Node release
 * this package supports; the documented methods are the fallback elsewhere.
 */
interface FastBuffer extends Buffer {
  latin1Write(s: string, offset: number): number;
  utf8Write(s: string, offset: number): number;
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

const proto = Buffer.prototype as Partial<FastBuffer>;
const hasFast =
  typeof proto.latin1Write === 'function' &&
  typeof proto.utf8Write === 'function' &&
  typeof proto.utf8Slice === 'function' &&
  typeof proto.latin1Slice === 'function';

export function latin1Write(b: Buffer, s: string, offset: number): number {
  return hasFast ? (b as FastBuffer).latin1Write(s, offset) : b.write(s, offset, 'latin1');
}

export function utf8Write(b: Buffer, s: string, offset: number): number {
  return hasFast ? (b as FastBuffer).utf8Write(s, offset) : b.write(s, offset, 'utf8');
}

/** Decodes bytes known to be ASCII (or, for latin1Slice, any bytes as Latin-1). */
export function latin1Slice(b: Buffer, start: number, end: number): string {
  return hasFast ? (b as FastBuffer).latin1Slice(start, end) : b.toString('latin1', start, end);
}

/** Decodes UTF-8 leniently (invalid sequences become U+FFFD). */
export function utf8Slice(b: Buffer, start: number, end: number): string {
  return hasFast ? (b as FastBuffer).utf8Slice(start, end) : b.toString('utf8', start, end);
}

/** A growable byte buffer: output is written once, in place, instead of as many small strings. */
export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(initial = 1 << 14) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Writes a string known to be ASCII. */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    if (n > 32) {
      this.pos = p + latin1Write(b, s, p);
      return;
    }
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  bytes(a: Uint8Array): void {
    const n = a.length;
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    if (n > 32) {
      b.set(a, p);
      this.pos = p + n;
      return;
    }
    for (let i = 0; i < n; i++) b[p++] = a[i]!;
    this.pos = p;
  }

  /** Writes any string as UTF-8 (lone surrogates become U+FFFD). */
  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.pos += utf8Write(this.buf, s, this.pos);
  }

  result(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos).slice();
  }
}
