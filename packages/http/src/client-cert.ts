import { Buffer } from 'node:buffer';
import { HttpError } from './errors';

/**
 * How a trusted proxy forwards the client certificate.
 *
 * - `rfc9440`: the `Client-Cert` header of RFC 9440, a structured-field byte sequence (`:BASE64-DER:`).
 * - `escaped-pem`: a URL-escaped PEM certificate, as nginx's `$ssl_client_escaped_cert` and several
 *   load balancers send it; raw PEM with its line breaks folded to spaces is accepted too.
 */
export type ClientCertHeaderFormat = 'rfc9440' | 'escaped-pem';

/** Largest certificate taken from a header, in DER bytes. Device identities are far smaller. */
export const MAX_HEADER_CERT_BYTES = 16 * 1024;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// Exactly one certificate and nothing around it: a header that came twice arrives joined with ", ",
// and taking the first block would take the client's copy over the proxy's.
const PEM = /^\s*-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*)-----END CERTIFICATE-----\s*$/;

/**
 * Decodes a forwarded client certificate to DER. Throws `BAD_CLIENT_CERT_HEADER` when the value is
 * not in the given format, is over {@link MAX_HEADER_CERT_BYTES}, or is not a DER SEQUENCE.
 */
export function decodeClientCertHeader(value: string, format: ClientCertHeaderFormat): Uint8Array {
  // Base64 of the largest accepted certificate, with room for PEM armour and URL escaping.
  if (value.length > MAX_HEADER_CERT_BYTES * 4) {
    throw new HttpError('BAD_CLIENT_CERT_HEADER', 'client certificate header is too long');
  }
  const b64 = format === 'rfc9440' ? fromByteSequence(value) : fromEscapedPem(value);
  if (!BASE64.test(b64) || b64.length % 4 !== 0) {
    throw new HttpError('BAD_CLIENT_CERT_HEADER', 'client certificate header is not valid base64');
  }
  const der = Buffer.from(b64, 'base64');
  if (der.length > MAX_HEADER_CERT_BYTES) {
    throw new HttpError('BAD_CLIENT_CERT_HEADER', 'client certificate in header is too large');
  }
  // A certificate is a DER SEQUENCE; anything else is not worth handing on.
  if (der[0] !== 0x30) throw new HttpError('BAD_CLIENT_CERT_HEADER', 'client certificate header is not DER');
  return new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
}

function fromByteSequence(value: string): string {
  const v = value.trim();
  if (v.length < 2 || v[0] !== ':' || v[v.length - 1] !== ':') {
    throw new HttpError('BAD_CLIENT_CERT_HEADER', 'Client-Cert is not a structured-field byte sequence');
  }
  return v.slice(1, -1);
}

function fromEscapedPem(value: string): string {
  let pem: string;
  try {
    pem = decodeURIComponent(value);
  } catch (cause) {
    throw new HttpError('BAD_CLIENT_CERT_HEADER', 'client certificate header is not URL-escaped', { cause });
  }
  const m = PEM.exec(pem);
  if (!m) {
    throw new HttpError(
      'BAD_CLIENT_CERT_HEADER',
      'client certificate header is not exactly one PEM certificate',
    );
  }
  return m[1]!.replace(/\s+/g, '');
}
