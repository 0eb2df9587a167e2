import {
  type AdapterOptions,
  type FetchHandler,
  type Handler,
  type HttpResponse,
  type NodeListener,
  textResponse,
  toFetchHandler as fetchAdapter,
  toNodeListener as nodeAdapter,
} from '@mdmkit/http';
import type { ScepHttpResponse, ScepServer } from './server';

/**
 * Options of {@link toNodeListener} and {@link toFetchHandler}: where SCEP is mounted, plus the
 * `@mdmkit/http` adapter options (timeouts, `onError`). The body limit is the server's own
 * `maxBodyBytes`.
 */
export interface NodeListenerOptions extends Omit<AdapterOptions, 'maxBodyBytes'> {
  /** Only this path is served (e.g. `/scep`, with or without a trailing slash); other paths get 404. Default: every path. */
  path?: string;
}

const notFound = textResponse(404, 'not found');

function toHttpResponse(r: ScepHttpResponse): HttpResponse {
  const headers: Record<string, string> = { 'content-type': r.contentType };
  if (r.retryAfterSeconds !== undefined) headers['retry-after'] = String(r.retryAfterSeconds);
  return { status: r.status, headers, body: r.body };
}

/**
 * A {@link ScepServer} as an `@mdmkit/http` `Handler`, for mounting beside other handlers
 * (in `createRouter`, say). The body arrives already read within the adapter's limit.
 *
 * @example
 * ```ts
 * import { createRouter, serve } from '@mdmkit/http';
 * const router = createRouter().add('*', '/scep', scepHandler(scep));
 * await serve(router.handle, { maxBodyBytes: scep.maxBodyBytes });
 * ```
 */
export function scepHandler(server: ScepServer, options: { path?: string } = {}): Handler {
  const path = options.path;
  return (req) => {
    if (path !== undefined && req.path !== path && req.path !== `${path}/`) return notFound;
    const body = req.method === 'POST' ? req.body : undefined;
    return server
      .handle({ method: req.method, query: req.query, ...(body ? { body } : {}) })
      .then(toHttpResponse);
  };
}

/**
 * Adapts a {@link ScepServer} to a `node:http`/`https`/`http2` request listener through
 * `@mdmkit/http`, reading the body with the server's size limit.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer(toNodeListener(scep, { path: '/scep' })).listen(8080, '127.0.0.1');
 * ```
 */
export function toNodeListener(server: ScepServer, options: NodeListenerOptions = {}): NodeListener {
  const { path, ...adapter } = options;
  return nodeAdapter(scepHandler(server, path === undefined ? {} : { path }), {
    ...adapter,
    maxBodyBytes: server.maxBodyBytes,
  });
}

/**
 * Adapts a {@link ScepServer} to a WHATWG `Request → Response` function through `@mdmkit/http`,
 * with the same path rule and limits as {@link toNodeListener}.
 *
 * @example
 * ```ts
 * const handle = toFetchHandler(scep, { path: '/scep' });
 * // hono: app.all('/scep', (c) => handle(c.req.raw));
 * ```
 */
export function toFetchHandler(server: ScepServer, options: NodeListenerOptions = {}): FetchHandler {
  const { path, ...adapter } = options;
  return fetchAdapter(scepHandler(server, path === undefined ? {} : { path }), {
    ...adapter,
    maxBodyBytes: server.maxBodyBytes,
  });
}
