import { type AdapterConfig, resolveClientCertificate } from './options';
import type { ClientCertificate, HttpRequest, RequestHeaders } from './types';

/** Reads the DER certificate of the TLS handshake from whatever the adapter keeps as its source. */
export type TlsCertificateReader = (source: unknown) => Uint8Array | undefined;

const NOT_RESOLVED: unique symbol = Symbol('not resolved');

/**
 * The {@link HttpRequest} every adapter builds. One object per request with a fixed shape; the
 * query and the client certificate cost nothing until a handler asks for them.
 */
export class AdapterRequest implements HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly rawQuery: string;
  readonly headers: RequestHeaders;
  readonly body: Uint8Array;
  readonly remoteAddress: string | undefined;
  #query: URLSearchParams | undefined;
  #certificate: ClientCertificate | undefined | typeof NOT_RESOLVED = NOT_RESOLVED;
  readonly #config: AdapterConfig;
  readonly #tlsSource: unknown;
  readonly #readTls: TlsCertificateReader;

  constructor(
    config: AdapterConfig,
    method: string,
    target: string,
    headers: RequestHeaders,
    body: Uint8Array,
    remoteAddress: string | undefined,
    tlsSource: unknown,
    readTls: TlsCertificateReader,
  ) {
    this.method = method;
    const q = target.indexOf('?');
    this.path = q === -1 ? target : target.slice(0, q);
    this.rawQuery = q === -1 ? '' : target.slice(q + 1);
    this.headers = headers;
    this.body = body;
    this.remoteAddress = remoteAddress;
    this.#config = config;
    this.#tlsSource = tlsSource;
    this.#readTls = readTls;
  }

  get query(): URLSearchParams {
    this.#query ??= new URLSearchParams(this.rawQuery);
    return this.#query;
  }

  get clientCertificate(): ClientCertificate | undefined {
    if (this.#certificate === NOT_RESOLVED) {
      this.#certificate = resolveClientCertificate(this.#config, this.remoteAddress, this.headers, () =>
        this.#readTls(this.#tlsSource),
      );
    }
    return this.#certificate;
  }
}
