import type { Server as NetServer, Socket } from 'node:net';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttp2Server, createSecureServer, type ServerHttp2Session } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { TlsOptions } from 'node:tls';
import { toNodeListener } from './node';
import { declaredTooLarge } from './body';
import { type AdapterOptions, DEFAULT_MAX_BODY_BYTES, positiveTimeout } from './options';
import type { Handler } from './types';

/** Options of {@link serve}: the adapter's options plus where to listen and the server's timeouts. */
export interface ServeOptions extends AdapterOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default `127.0.0.1`: listening on every interface is a decision to write down, not a default. */
  host?: string;
  /** Serve HTTPS with these options (`key`, `cert`, `ca`, `requestCert`, `rejectUnauthorized`, …). */
  tls?: TlsOptions;
  /** Serve HTTP/2: over TLS with HTTP/1.1 fallback when `tls` is set, cleartext h2c otherwise. */
  http2?: boolean;
  /**
   * The request headers must arrive within this time of the connection or the last request (slowloris).
   * For HTTP/2: a new session must start a request within this time. Default 20 000.
   */
  headersTimeoutMs?: number;
  /** The whole request must arrive within this time. Default 60 000. */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection (or HTTP/2 session with no request in progress) is kept. Default 5 000. */
  keepAliveTimeoutMs?: number;
  /** A connection (or HTTP/2 session) with no traffic at all for this long is closed. Default 60 000. */
  idleTimeoutMs?: number;
}

/** A server started by {@link serve}. */
export interface RunningHttpServer {
  readonly server: NetServer;
  /** e.g. `http://127.0.0.1:41234` (IPv6 hosts in brackets). */
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

/**
 * Starts a `node:http`, `node:https` or `node:http2` server for a handler, with the timeouts that
 * keep slow and idle clients from holding connections, on 127.0.0.1 unless told otherwise.
 *
 * @example
 * ```ts
 * import { serve } from '@mdmkit/http';
 * const running = await serve(router.handle, { port: 8443, tls: { key, cert }, http2: true });
 * console.log(`listening on ${running.url}`);
 * ```
 */
export async function serve(handler: Handler, options: ServeOptions = {}): Promise<RunningHttpServer> {
  const headersTimeout = options.headersTimeoutMs ?? 20_000;
  const requestTimeout = options.requestTimeoutMs ?? 60_000;
  const keepAliveTimeout = options.keepAliveTimeoutMs ?? 5_000;
  const idleTimeout = options.idleTimeoutMs ?? 60_000;
  positiveTimeout('headersTimeoutMs', headersTimeout);
  positiveTimeout('requestTimeoutMs', requestTimeout);
  positiveTimeout('keepAliveTimeoutMs', keepAliveTimeout);
  positiveTimeout('idleTimeoutMs', idleTimeout);
  const listener = toNodeListener(handler, options);
  const host = options.host ?? '127.0.0.1';
  // Node checks header and request deadlines on this interval; a fraction of the shortest one
  // keeps a slow client from outliving its deadline by much.
  const connectionsCheckingInterval = Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4)));
  const h1Timeouts = {
    headersTimeout: Math.min(headersTimeout, requestTimeout),
    requestTimeout,
    keepAliveTimeout,
    connectionsCheckingInterval,
  };
  let server: NetServer;
  if (options.http2) {
    const h2 = options.tls
      ? createSecureServer({ ...options.tls, allowHTTP1: true }, listener)
      : createHttp2Server(listener);
    // HTTP/1.1 clients of the TLS server go through node:http's machinery, which reads these
    // from the server object (createSecureServer ignores them as options); set before listen().
    Object.assign(h2, h1Timeouts);
    h2.setTimeout(idleTimeout);
    h2.on('session', (session: ServerHttp2Session) => limitWait(session, headersTimeout, keepAliveTimeout));
    server = h2;
  } else {
    const h1: HttpServer = options.tls
      ? createHttpsServer({ ...options.tls, ...h1Timeouts }, listener)
      : createHttpServer(h1Timeouts, listener);
    h1.setTimeout(idleTimeout);
    server = h1;
  }
  // Node sends `100 Continue` by itself unless someone listens for this; a body declared over the
  // limit gets its 413 without being invited first.
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!declaredTooLarge(req.headers['content-length'], maxBodyBytes)) res.writeContinue();
    listener(req, res);
  });
  // Every connection, HTTP/1 or HTTP/2, so that close() ends them all whatever state they are in.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const scheme = options.tls ? 'https' : 'http';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    server,
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * HTTP/2's header deadline: node:http2 has none, and a client that sends a request's headers slowly
 * (CONTINUATION frames) never reaches a listener. A session with no request in progress is closed
 * `first` ms after it opens and `between` ms after its last request ended, as HTTP/1 connections are.
 */
function limitWait(session: ServerHttp2Session, first: number, between: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number) => {
    // destroy(), not close(): a graceful GOAWAY waits for the half-sent header block it is meant to end.
    timer = setTimeout(() => session.destroy(), ms);
    timer.unref();
  };
  arm(first);
  session.on('stream', (stream) => {
    open++;
    clearTimeout(timer);
    stream.once('close', () => {
      if (--open === 0 && !session.destroyed) arm(between);
    });
  });
  session.once('close', () => clearTimeout(timer));
}
