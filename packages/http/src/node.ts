import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { BodyCollector, declaredTooLarge, EMPTY_BODY } from './body';
import { ANSWERS, bodyless, callHandler } from './dispatch';
import { HttpError } from './errors';
import { type AdapterConfig, type AdapterOptions, resolveOptions } from './options';
import { AdapterRequest } from './request';
import type { Handler, HttpResponse, RequestHeaders } from './types';

/** A `node:http`, `node:https` or `node:http2` (compatibility API) request listener. */
export type NodeListener = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

/** After a 408 or 413, how long and how much of the rest of the body is read before the socket is cut. */
const DRAIN_MS = 2_000;
const DRAIN_BYTES = 256 * 1024;

class NodeHeaders implements RequestHeaders {
  readonly #raw: IncomingHttpHeaders;
  constructor(raw: IncomingHttpHeaders) {
    this.#raw = raw;
  }
  get(name: string): string | undefined {
    const v = this.#raw[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  }
}

function readTlsCertificate(socket: unknown): Uint8Array | undefined {
  const s = socket as Partial<TLSSocket> | undefined;
  if (s?.encrypted !== true || typeof s.getPeerCertificate !== 'function') return undefined;
  const raw = s.getPeerCertificate(false)?.raw;
  return raw && raw.length > 0 ? new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
}

function isHttp2(req: IncomingMessage | Http2ServerRequest): req is Http2ServerRequest {
  return (req as Http2ServerRequest).stream !== undefined;
}

/**
 * Adapts a {@link Handler} to a `node:http`/`node:https` listener, or to a `node:http2` server's
 * compatibility API. Reads the body within `maxBodyBytes` (a declared `Content-Length` over it is
 * answered 413 before the body is read) and `bodyTimeoutMs`; a handler that throws gets a plain 500.
 * Header and idle timeouts belong to the server: {@link serve} sets them, or set them yourself.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { toNodeListener } from '@mdmkit/http';
 * createServer(toNodeListener((req) => ({ status: 200, body: `you asked for ${req.path}\n` }))).listen(
 *   8080,
 *   '127.0.0.1',
 * );
 * ```
 */
export function toNodeListener(handler: Handler, options?: AdapterOptions): NodeListener {
  const config = resolveOptions(options);
  return (req, res) => {
    const h2 = isHttp2(req);
    const hasBody = h2
      ? !req.stream.endAfterHeaders
      : req.headers['transfer-encoding'] !== undefined ||
        (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    if (!hasBody) {
      dispatch(handler, config, req, res, EMPTY_BODY);
      return;
    }
    if (declaredTooLarge(req.headers['content-length'], config.maxBodyBytes)) {
      config.onError(new HttpError('BODY_TOO_LARGE', 'declared request body is over the limit'));
      reject(req, res, ANSWERS.tooLarge, config);
      return;
    }
    readBody(handler, config, req, res);
  };
}

function dispatch(
  handler: Handler,
  config: AdapterConfig,
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  body: Uint8Array,
): void {
  const socket = isHttp2(req) ? req.stream.session?.socket : req.socket;
  const request = new AdapterRequest(
    config,
    // HTTP/1 methods come upper-case from Node's parser; an HTTP/2 :method is taken as sent.
    isHttp2(req) ? (req.method ?? 'GET').toUpperCase() : (req.method ?? 'GET'),
    req.url ?? '/',
    new NodeHeaders(req.headers),
    body,
    socket?.remoteAddress,
    socket,
    readTlsCertificate,
  );
  const out = callHandler(handler, request, config);
  if (out instanceof Promise) out.then((r) => send(res, r, config));
  else send(res, out, config);
}

function send(res: ServerResponse | Http2ServerResponse, r: HttpResponse, config: AdapterConfig): void {
  if (res.headersSent || res.destroyed) return;
  const body = r.body === undefined || bodyless(r.status) ? undefined : r.body;
  const headers: Record<string, string | number | readonly string[]> = {};
  if (r.headers) {
    for (const name in r.headers) {
      // Ours is the only content-length: it must match what is sent.
      if (name.length !== 14 || name.toLowerCase() !== 'content-length') headers[name] = r.headers[name]!;
    }
  }
  if (!bodyless(r.status)) {
    // A string is written as is; measuring it costs less than encoding it into a buffer first.
    headers['content-length'] =
      body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  }
  try {
    (res as ServerResponse).writeHead(r.status, headers as Record<string, string | number | string[]>);
  } catch (cause) {
    // Node refuses header names and values it cannot send (CR/LF, bad characters); nothing is
    // written yet, so the one plain 500 can still go out.
    config.onError(new HttpError('BAD_RESPONSE', 'handler returned headers that cannot be sent', { cause }));
    if (r !== ANSWERS.internal) send(res, ANSWERS.internal, config);
    return;
  }
  if (body === undefined) res.end();
  else (res as ServerResponse).end(body);
}

function readBody(
  handler: Handler,
  config: AdapterConfig,
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
): void {
  const collector = new BodyCollector(config.maxBodyBytes);
  let settled = false;
  const stop = () => {
    settled = true;
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
  };
  const onData = (chunk: Uint8Array) => {
    if (settled) return;
    if (!collector.push(chunk)) {
      stop();
      config.onError(new HttpError('BODY_TOO_LARGE', 'streamed request body is over the limit'));
      reject(req, res, ANSWERS.tooLarge, config);
    }
  };
  const onEnd = () => {
    if (settled) return;
    stop();
    dispatch(handler, config, req, res, collector.bytes());
  };
  const timer = setTimeout(() => {
    if (settled) return;
    stop();
    config.onError(new HttpError('BODY_TIMEOUT', 'request body did not arrive in time'));
    reject(req, res, ANSWERS.timeout, config);
  }, config.bodyTimeoutMs);
  req.on('data', onData);
  req.on('end', onEnd);
  const gone = (cause?: unknown) => {
    if (settled) return;
    stop();
    config.onError(
      new HttpError('BODY_UNREADABLE', 'the client went away before its body was read', { cause }),
    );
  };
  req.once('error', gone);
  req.once('close', gone);
}

/**
 * Answers before (or without) reading the whole body and ends the exchange. The rest of the body is
 * read and dropped for a short while first, so the client sees the answer rather than a reset; then
 * HTTP/1 cuts the connection (the answer said `connection: close`) and HTTP/2 resets only this stream.
 */
function reject(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  answer: HttpResponse,
  config: AdapterConfig,
): void {
  const h2 = isHttp2(req);
  // HTTP/2 forbids connection-specific headers; there the stream ends, not the connection.
  if (!h2 && !res.headersSent) (res as ServerResponse).setHeader('connection', 'close');
  send(res, answer, config);
  const cut = () => {
    clearTimeout(timer);
    if (h2) {
      // NO_ERROR: the answer is complete and the rest of the request is not wanted (RFC 9113 8.1).
      if (!req.stream.destroyed) req.stream.close(0);
    } else req.destroy();
  };
  const timer = setTimeout(cut, DRAIN_MS);
  timer.unref();
  let drained = 0;
  req.on('data', (chunk: Uint8Array) => {
    drained += chunk.byteLength;
    if (drained > DRAIN_BYTES) cut();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}
