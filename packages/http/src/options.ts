import { type ClientCertHeaderFormat, decodeClientCertHeader } from './client-cert';
import { HttpError } from './errors';
import { AddressSet } from './ip';
import type { ClientCertificate, RequestHeaders } from './types';

/** Options every adapter takes; each has a safe default. */
export interface AdapterOptions {
  /** Largest request body, declared or streamed; over it the answer is 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** The whole body must arrive within this many milliseconds of the headers, or the answer is 408. Default 30 000. */
  bodyTimeoutMs?: number;
  /**
   * Peers (addresses or CIDR ranges) whose client-certificate header is believed. Empty by default:
   * certificates are public, so a header honoured from anyone would let any client claim any identity.
   */
  trustedProxies?: readonly string[];
  /** How trusted proxies forward the certificate. Default `rfc9440`. */
  clientCertHeaderFormat?: ClientCertHeaderFormat;
  /** The header they put it in. Default `client-cert` for `rfc9440`, `x-ssl-client-cert` for `escaped-pem`. */
  clientCertHeader?: string;
  /**
   * Told about every failure the client only sees as a status line (handler errors, limits, bad headers).
   * What it throws is ignored.
   */
  onError?: (error: HttpError) => void;
}

/** Default of {@link AdapterOptions.maxBodyBytes}. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Default of {@link AdapterOptions.bodyTimeoutMs}. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** Options with defaults applied and checked once, when the adapter is built. */
export interface AdapterConfig {
  readonly maxBodyBytes: number;
  readonly bodyTimeoutMs: number;
  readonly proxies: AddressSet;
  readonly certHeader: string;
  readonly certFormat: ClientCertHeaderFormat;
  readonly onError: (error: HttpError) => void;
}

const ignore = () => {};

export function resolveOptions(options: AdapterOptions = {}): AdapterConfig {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0) {
    throw new HttpError(
      'INVALID_OPTIONS',
      `maxBodyBytes must be a non-negative integer, got ${maxBodyBytes}`,
    );
  }
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  positiveTimeout('bodyTimeoutMs', bodyTimeoutMs);
  const certFormat = options.clientCertHeaderFormat ?? 'rfc9440';
  if (certFormat !== 'rfc9440' && certFormat !== 'escaped-pem') {
    throw new HttpError('INVALID_OPTIONS', `unknown clientCertHeaderFormat ${String(certFormat)}`);
  }
  const certHeader = (
    options.clientCertHeader ?? (certFormat === 'rfc9440' ? 'client-cert' : 'x-ssl-client-cert')
  ).toLowerCase();
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(certHeader)) {
    throw new HttpError('INVALID_OPTIONS', `clientCertHeader is not a header name: ${certHeader}`);
  }
  return {
    maxBodyBytes,
    bodyTimeoutMs,
    proxies: new AddressSet(options.trustedProxies ?? []),
    certHeader,
    certFormat,
    onError: options.onError === undefined ? ignore : guarded(options.onError),
  };
}

/** A reporter that throws (a logger that is down) must change no answer and crash nothing. */
function guarded(onError: (error: HttpError) => void): (error: HttpError) => void {
  return (error) => {
    try {
      onError(error);
    } catch {
      // Nothing useful is left to tell the failure to.
    }
  };
}

/** Throws `INVALID_OPTIONS` unless `value` is a usable timer delay. */
export function positiveTimeout(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0 || value > 2_147_483_647) {
    throw new HttpError(
      'INVALID_OPTIONS',
      `${name} must be a positive integer of milliseconds, got ${value}`,
    );
  }
}

/**
 * The identity rule, in one place: a trusted proxy's header, and nothing else, speaks for a request
 * that came through that proxy (its own TLS certificate is the proxy's, not the client's); from any
 * other peer the header is ignored and only the TLS handshake counts.
 */
export function resolveClientCertificate(
  config: AdapterConfig,
  remoteAddress: string | undefined,
  headers: RequestHeaders,
  tlsCertificate: () => Uint8Array | undefined,
): ClientCertificate | undefined {
  if (config.proxies.has(remoteAddress)) {
    const value = headers.get(config.certHeader);
    if (value === undefined || value === '') return undefined;
    try {
      return { der: decodeClientCertHeader(value, config.certFormat), source: 'proxy-header' };
    } catch (e) {
      config.onError(e as HttpError);
      return undefined;
    }
  }
  const der = tlsCertificate();
  return der === undefined ? undefined : { der, source: 'tls' };
}
