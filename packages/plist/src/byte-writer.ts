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

const CHUNK = 64 * 1024;

/**
 * Output bytes in a list of chunks, so that a large document never needs one huge, repeatedly
 * regrown buffer. Every write fits entirely in one chunk (a write larger than a chunk gets a chunk of
 * its own), so no UTF-8 sequence is ever split and each chunk decodes on its own.
 */
export class ByteWriter {
  buf: Buffer = Buffer.allocUnsafe(CHUNK);
  pos = 0;
  private readonly chunks: Buffer[] = [];

  /** Makes room for `n` more bytes at `buf[pos]`; `buf` may change. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, n));
    this.pos = 0;
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

  /** Writes any string as UTF-8 (lone surrogates become U+FFFD). */
  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.pos += utf8Write(this.buf, s, this.pos);
  }

  /** All bytes written, as one array. */
  bytes(): Uint8Array {
    const last = this.buf.subarray(0, this.pos);
    // Small results are copied so that they do not pin a whole chunk; large ones are handed out as is.
    if (this.chunks.length === 0 && this.pos < CHUNK / 2) return new Uint8Array(last);
    const all = this.chunks.length === 0 ? last : Buffer.concat([...this.chunks, last]);
    return new Uint8Array(all.buffer, all.byteOffset, all.length);
  }

  /**
   * All bytes decoded as one string (`ascii`: every byte is known to be < 0x80). Chunks are decoded
   * one by one and concatenated, which V8 does without copying.
   */
  text(ascii: boolean): string {
    let s = '';
    for (const c of [...this.chunks, this.buf.subarray(0, this.pos)]) {
      s += ascii ? latin1Slice(c, 0, c.length) : utf8Slice(c, 0, c.length);
    }
    return s;
  }
}
