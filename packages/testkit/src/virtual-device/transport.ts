// How a virtual device talks to a server it does not trust to behave: every request (SCEP and MDM)
// has a deadline that covers the answer's body too, and an answer is read up to a byte limit, so a
// server that hangs, stalls mid-body or streams without end costs one failed request, not the run.
import { TestkitError } from '../errors';

/** Default deadline of one device request, body included (ms). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Largest answer a device reads: commands with embedded profiles or app manifests stay far below. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * `base` with a deadline on every request that has no signal of its own.
 *
 * @example
 * ```ts
 * const scepFetch = withDeadline(fetch, 30_000);
 * ```
 */
export function withDeadline(base: typeof fetch, timeoutMs: number): typeof fetch {
  return (input, init) => base(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
}

/**
 * Sends one request with `doFetch` and reads its whole answer, within `timeoutMs` and `maxBytes`;
 * a missed deadline or an oversized answer throws `TestkitError` `REQUEST_FAILED`.
 *
 * @example
 * ```ts
 * const { status, body } = await fetchBounded(fetch, url, { method: 'PUT', body: signed }, {
 *   timeoutMs: 30_000,
 *   maxBytes: MAX_ANSWER_BYTES,
 * });
 * ```
 */
export async function fetchBounded(
  doFetch: typeof fetch,
  url: string,
  init: RequestInit,
  limits: { timeoutMs: number; maxBytes: number },
): Promise<{ status: number; body: Uint8Array }> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const res = await doFetch(url, { ...init, signal });
    return { status: res.status, body: await readAtMost(res, limits.maxBytes) };
  } catch (e) {
    if (signal.aborted) {
      throw new TestkitError('REQUEST_FAILED', `no answer within ${limits.timeoutMs} ms`, { cause: e });
    }
    throw e;
  }
}

async function readAtMost(res: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new TestkitError('REQUEST_FAILED', `the answer is larger than ${maxBytes} bytes`);
  }
  if (!res.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new TestkitError('REQUEST_FAILED', `the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks, size));
}
