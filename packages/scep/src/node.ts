import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ScepServer } from './server';

/** Options of {@link toNodeListener}. */
export interface NodeListenerOptions {
  /** Only this path is served (e.g. `/scep`); other paths get 404. Default: every path. */
  path?: string;
}

/**
 * Adapts a {@link ScepServer} to a `node:http` request listener, reading the body with the server's size limit.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer(toNodeListener(scep, { path: '/scep' })).listen(8080, '127.0.0.1');
 * ```
 */
export function toNodeListener(
  server: ScepServer,
  options: NodeListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const path = options.path;
  const send = (res: ServerResponse, status: number, contentType: string, body: Uint8Array | string) => {
    if (res.headersSent) return;
    const buf = typeof body === 'string' ? Buffer.from(`${body}\n`) : body;
    res.writeHead(status, { 'content-type': contentType, 'content-length': buf.byteLength });
    res.end(buf);
  };
  return (req, res) => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q === -1 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
    if (path !== undefined && pathname !== path && pathname !== `${path}/`) {
      req.resume();
      send(res, 404, 'text/plain; charset=utf-8', 'not found');
      return;
    }
    const method = req.method ?? 'GET';
    const finish = (body?: Uint8Array) => {
      server.handle({ method, query, ...(body ? { body } : {}) }).then(
        (r) => {
          if (r.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(r.retryAfterSeconds));
          send(res, r.status, r.contentType, r.body);
        },
        () => send(res, 500, 'text/plain; charset=utf-8', 'internal error'),
      );
    };
    if (method !== 'POST') {
      req.resume();
      finish();
      return;
    }
    const max = server.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? 'NaN');
    if (Number.isFinite(declared) && declared > max) {
      // Answer without reading the body, then drop the connection so the rest is not read either.
      res.setHeader('connection', 'close');
      send(res, 413, 'text/plain; charset=utf-8', 'request body too large');
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    let aborted = false;
    req.on('data', (chunk: Buffer) => {
      if (aborted) return;
      total += chunk.length;
      if (total > max) {
        aborted = true;
        res.setHeader('connection', 'close');
        send(res, 413, 'text/plain; charset=utf-8', 'request body too large');
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!aborted) finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', () => {
      aborted = true;
    });
  };
}
