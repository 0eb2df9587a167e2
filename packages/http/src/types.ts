/** Read access to request headers; names are case-insensitive, repeated headers come joined with `, `. */
export interface RequestHeaders {
  /** The header's value, or `undefined` when it is absent. */
  get(name: string): string | undefined;
}

/**
 * A client certificate presented for this request, as DER bytes. Nothing here has been checked:
 * whether it chains to a trusted CA and belongs to the enrollment is the caller's decision.
 */
export interface ClientCertificate {
  /** The certificate, DER-encoded. */
  readonly der: Uint8Array;
  /**
   * `tls`: the peer presented it in the TLS handshake of this connection.
   * `proxy-header`: a configured trusted proxy forwarded it in a header.
   */
  readonly source: 'tls' | 'proxy-header';
}

/**
 * The one request shape every mdmkit handler takes. Adapters build it from `node:http`,
 * `node:http2` or a WHATWG `Request`; `query` and `clientCertificate` are computed on first use.
 */
export interface HttpRequest {
  /** Upper-case method, e.g. `PUT`. */
  readonly method: string;
  /** The path as sent, without the query, not percent-decoded, e.g. `/mdm/checkin`. */
  readonly path: string;
  /** The query string without its `?` (empty when there is none). */
  readonly rawQuery: string;
  /** The query, parsed on first access. */
  readonly query: URLSearchParams;
  readonly headers: RequestHeaders;
  /** The whole body, read within the adapter's limits; empty when the request has none. */
  readonly body: Uint8Array;
  /** The address of the directly connected peer (a proxy's, behind one), when the runtime tells it. */
  readonly remoteAddress: string | undefined;
  /**
   * The client's certificate: from a trusted proxy's header when the peer is a configured trusted
   * proxy, otherwise from this connection's TLS handshake; `undefined` when there is none.
   */
  readonly clientCertificate: ClientCertificate | undefined;
}

/** Header values of a response; an array sends the header once per value. */
export type ResponseHeaders = Readonly<Record<string, string | readonly string[]>>;

/** The one response shape every mdmkit handler returns. */
export interface HttpResponse {
  /** An integer from 200 to 599 (1xx answers are the server's business, not a handler's). */
  status: number;
  /** Lower-case names are customary; `content-length` is set by the adapter. */
  headers?: ResponseHeaders;
  /** Bytes, or a string sent as UTF-8. No body when absent. */
  body?: Uint8Array | string;
}

/**
 * A request handler. It may answer synchronously, which saves a promise on the hot path.
 *
 * @example
 * ```ts
 * import type { Handler } from '@mdmkit/http';
 * const hello: Handler = (req) => ({
 *   status: 200,
 *   headers: { 'content-type': 'text/plain; charset=utf-8' },
 *   body: `hello ${req.query.get('name') ?? 'world'}\n`,
 * });
 * ```
 */
export type Handler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;
