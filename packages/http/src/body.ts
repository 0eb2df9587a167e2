/** The body of a request that has none. Shared and empty, so it cannot be changed. */
export const EMPTY_BODY: Uint8Array = new Uint8Array(0);

/**
 * Whether a declared `Content-Length` is over the limit, so the answer can be 413 before a byte of
 * the body is read. An absent or unparsable value is not "over": the streamed count decides then.
 */
export function declaredTooLarge(contentLength: string | null | undefined, max: number): boolean {
  if (contentLength === undefined || contentLength === null) return false;
  const n = Number(contentLength);
  return Number.isFinite(n) && n > max;
}

/**
 * Collects body chunks up to a byte limit. One chunk (the common case for small device requests)
 * is handed on without a copy.
 */
export class BodyCollector {
  #first: Uint8Array | undefined;
  #rest: Uint8Array[] | undefined;
  #total = 0;
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  /** Adds a chunk; false when the body is now over the limit (the chunk is not kept). */
  push(chunk: Uint8Array): boolean {
    this.#total += chunk.byteLength;
    if (this.#total > this.#max) return false;
    if (this.#first === undefined) this.#first = chunk;
    else if (this.#rest === undefined) this.#rest = [chunk];
    else this.#rest.push(chunk);
    return true;
  }
  /** The body so far as one array. */
  bytes(): Uint8Array {
    if (this.#first === undefined) return EMPTY_BODY;
    if (this.#rest === undefined) return this.#first;
    const out = new Uint8Array(this.#total);
    out.set(this.#first, 0);
    let offset = this.#first.byteLength;
    for (const c of this.#rest) {
      out.set(c, offset);
      offset += c.byteLength;
    }
    return out;
  }
}
