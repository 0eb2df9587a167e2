import { BodyCollector, declaredTooLarge, EMPTY_BODY } from './body';
import { ANSWERS, bodyless, callHandler } from './dispatch';
import { HttpError } from './errors';
import { type AdapterConfig, type AdapterOptions, resolveOptions } from './options';
import { AdapterRequest } from './request';
import type { Handler, HttpResponse, RequestHeaders } from './types';

/**
 * What a WHATWG `Request` does not carry about its connection. Pass it where the runtime tells you
 * (Deno's `info.remoteAddr.hostname`, Bun's `server.requestIP(req)?.address`); without
 * `remoteAddress` no proxy is trusted, so a client-certificate header is never believed.
 */
export interface ConnectionInfo {
  /** The directly connected peer's address. */
  remoteAddress?: string;
  /** The DER certificate the peer presented in the TLS handshake, when the runtime exposes it. */
  clientCertificate?: Uint8Array;
}

/** A `(Request) => Promise<Response>` handler, as hono, Next.js route handlers, Bun and Deno take. */
export type FetchHandler = (request: Request, connection?: ConnectionInfo) => Promise<Response>;

class FetchHeaders implements RequestHeaders {
  readonly #raw: Headers;
  constructor(raw: Headers) {
    this.#raw = raw;
  }
  get(name: string): string | undefined {
    return this.#raw.get(name) ?? undefined;
  }
}

function readConnectionCertificate(connection: unknown): Uint8Array | undefined {
  return (connection as ConnectionInfo | undefined)?.clientCertificate;
}

/** `/path?query` of an absolute URL, without building a `URL` object. */
function requestTarget(url: string): string {
  const scheme = url.indexOf('://');
  const slash = scheme === -1 ? -1 : url.indexOf('/', scheme + 3);
  if (slash === -1) return '/';
  const hash = url.indexOf('#', slash);
  return hash === -1 ? url.slice(slash) : url.slice(slash, hash);
}

/**
 * Adapts a {@link Handler} to a WHATWG `Request → Response` function with the same body limits,
 * 408/413 answers and plain 500 as the node adapter.
 *
 * @example
 * ```ts
 * import { toFetchHandler } from '@mdmkit/http';
 * const fetchHandler = toFetchHandler(handler, { maxBodyBytes: 256 * 1024 });
 * // Next.js route handler: export const POST = (req: Request) => fetchHandler(req);
 * // Deno: Deno.serve((req, info) => fetchHandler(req, { remoteAddress: info.remoteAddr.hostname }));
 * ```
 */
export function toFetchHandler(handler: Handler, options?: AdapterOptions): FetchHandler {
  const config = resolveOptions(options);
  return async (request, connection) => {
    let body = EMPTY_BODY;
    if (request.body !== null) {
      const read = await readBody(request, config);
      if (read instanceof HttpError) {
        config.onError(read);
        if (read.code === 'BODY_TOO_LARGE') return toResponse(ANSWERS.tooLarge);
        if (read.code === 'BODY_TIMEOUT') return toResponse(ANSWERS.timeout);
        return toResponse(ANSWERS.badRequest);
      }
      body = read;
    }
    const req = new AdapterRequest(
      config,
      request.method.toUpperCase(),
      requestTarget(request.url),
      new FetchHeaders(request.headers),
      body,
      connection?.remoteAddress,
      connection,
      readConnectionCertificate,
    );
    const out = callHandler(handler, req, config);
    const answer = out instanceof Promise ? await out : out;
    try {
      return toResponse(answer);
    } catch (cause) {
      // Headers the runtime refuses (CR/LF, bad names): the one plain 500 instead.
      config.onError(
        new HttpError('BAD_RESPONSE', 'handler returned headers that cannot be sent', { cause }),
      );
      return toResponse(ANSWERS.internal);
    }
  };
}

async function readBody(request: Request, config: AdapterConfig): Promise<Uint8Array | HttpError> {
  if (declaredTooLarge(request.headers.get('content-length'), config.maxBodyBytes)) {
    await request.body?.cancel().catch(() => {});
    return new HttpError('BODY_TOO_LARGE', 'declared request body is over the limit');
  }
  const reader = request.body!.getReader();
  const collector = new BodyCollector(config.maxBodyBytes);
  // Cancelling the reader ends a pending read, so one timer is enough: no race per chunk.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, config.bodyTimeoutMs);
  try {
    for (;;) {
      const next = await reader.read();
      if (timedOut) return new HttpError('BODY_TIMEOUT', 'request body did not arrive in time');
      if (next.done) return collector.bytes();
      if (!collector.push(next.value)) {
        reader.cancel().catch(() => {});
        return new HttpError('BODY_TOO_LARGE', 'streamed request body is over the limit');
      }
    }
  } catch (cause) {
    if (timedOut) return new HttpError('BODY_TIMEOUT', 'request body did not arrive in time');
    return new HttpError('BODY_UNREADABLE', 'request body stream failed', { cause });
  } finally {
    clearTimeout(timer);
  }
}

function toResponse(r: HttpResponse): Response {
  const body = r.body === undefined || bodyless(r.status) ? null : r.body;
  if (r.headers === undefined) return new Response(body, { status: r.status });
  const headers = new Headers();
  for (const name in r.headers) {
    const value = r.headers[name]!;
    if (typeof value === 'string') headers.append(name, value);
    else for (const v of value) headers.append(name, v);
  }
  return new Response(body, { status: r.status, headers });
}
