import { type Certificate, parseCertificate, verifyMdmSignature } from '@mdmkit/crypto';
import { ProtocolError } from './errors';

/** Where a device's identity certificate came from. */
export type IdentitySource = 'mdm-signature' | 'mtls' | 'rfc9440-header' | 'escaped-pem-header';

/**
 * The certificate a request is signed or authenticated with. Chain validation and the association
 * of the certificate with the enrollment are the caller's next steps.
 */
export interface DeviceIdentity {
  certificate: Certificate;
  source: IdentitySource;
}

function invalid(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError('INVALID_IDENTITY', message, { cause });
}

function parse(input: string | Uint8Array, source: IdentitySource): DeviceIdentity {
  try {
    return { certificate: parseCertificate(input), source };
  } catch (e) {
    throw invalid(`${source}: not a certificate`, e);
  }
}

/**
 * The signer of an `Mdm-Signature` header (base64 detached CMS over the exact body bytes), RSA or
 * EC, verified through @mdmkit/crypto.
 *
 * @throws ProtocolError `INVALID_IDENTITY` when the header is malformed or the signature does not
 * match the body.
 * @example
 * ```ts
 * const { certificate } = await identityFromMdmSignature(req.headers.get('mdm-signature') ?? '', body);
 * ```
 */
export async function identityFromMdmSignature(
  headerValue: string,
  body: Uint8Array,
): Promise<DeviceIdentity> {
  try {
    return { certificate: await verifyMdmSignature(headerValue, body), source: 'mdm-signature' };
  } catch (e) {
    throw invalid('Mdm-Signature does not verify', e);
  }
}

/** What TLS stacks hand out for a peer certificate: DER bytes, or an object with `raw` DER. */
export type PeerCertificateInput = Uint8Array | { raw: Uint8Array };

/**
 * The client certificate of a mutually authenticated TLS connection (`tlsSocket.getPeerCertificate()`
 * or a `crypto.X509Certificate`, both carry `raw` DER).
 *
 * @example
 * ```ts
 * const peer = (req.socket as TLSSocket).getPeerCertificate();
 * const { certificate } = identityFromPeerCertificate(peer);
 * ```
 */
export function identityFromPeerCertificate(peer: PeerCertificateInput): DeviceIdentity {
  const der = peer instanceof Uint8Array ? peer : peer?.raw;
  if (!(der instanceof Uint8Array) || der.length === 0) throw invalid('mtls: no peer certificate');
  return parse(der, 'mtls');
}

const RFC9440 = /^:([A-Za-z0-9+/]+={0,2}):$/;

/**
 * The certificate of a `Client-Cert` header in RFC 9440 form: a structured-field byte sequence,
 * base64 DER between colons (`:MIIC...:`), as set by a TLS-terminating proxy.
 *
 * Trust this header only from your own proxy, which must strip it from client requests.
 *
 * @example
 * ```ts
 * const { certificate } = identityFromRfc9440Header(req.headers.get('client-cert') ?? '');
 * ```
 */
export function identityFromRfc9440Header(value: string): DeviceIdentity {
  const m = RFC9440.exec(value.trim());
  if (!m) throw invalid('rfc9440-header: expected :base64:');
  return parse(Buffer.from(m[1]!, 'base64'), 'rfc9440-header');
}

/**
 * The certificate of a header carrying URL-escaped PEM (nginx `$ssl_client_escaped_cert`).
 *
 * Trust this header only from your own proxy, which must strip it from client requests.
 *
 * @example
 * ```ts
 * // nginx: proxy_set_header X-Client-Cert $ssl_client_escaped_cert;
 * const { certificate } = identityFromEscapedPemHeader(req.headers.get('x-client-cert') ?? '');
 * ```
 */
export function identityFromEscapedPemHeader(value: string): DeviceIdentity {
  let pem: string;
  try {
    pem = decodeURIComponent(value.trim());
  } catch (e) {
    throw invalid('escaped-pem-header: bad URL escaping', e);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw invalid('escaped-pem-header: no PEM certificate');
  return parse(pem, 'escaped-pem-header');
}

/** How {@link deviceIdentity} finds the certificate of a request. */
export interface DeviceIdentityOptions {
  /**
   * A header set by a trusted TLS-terminating proxy. Leave unset unless such a proxy strips the
   * header from incoming requests: otherwise any client could claim any certificate.
   */
  certHeader?: { name: string; format: 'rfc9440' | 'escaped-pem' };
}

/** The parts of a request {@link deviceIdentity} reads. */
export interface IdentityRequest {
  headers: Headers | Record<string, string | string[] | undefined>;
  body: Uint8Array;
  /** The mTLS client certificate, when the server terminates TLS itself. */
  peerCertificate?: PeerCertificateInput;
}

function header(headers: IdentityRequest['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (k.toLowerCase() === lower) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/**
 * The device certificate of a request: the mTLS peer certificate, else the configured proxy header,
 * else the `Mdm-Signature` header.
 *
 * @throws ProtocolError `INVALID_IDENTITY` when none is present or the one present does not verify.
 * @example
 * ```ts
 * const id = await deviceIdentity({ headers: request.headers, body }, { certHeader: { name: 'client-cert', format: 'rfc9440' } });
 * verifyCertificateChain(id.certificate, { trusted: [identityCa] });
 * ```
 */
export async function deviceIdentity(
  req: IdentityRequest,
  options: DeviceIdentityOptions = {},
): Promise<DeviceIdentity> {
  if (req.peerCertificate) return identityFromPeerCertificate(req.peerCertificate);
  if (options.certHeader) {
    const v = header(req.headers, options.certHeader.name);
    if (v) {
      return options.certHeader.format === 'rfc9440'
        ? identityFromRfc9440Header(v)
        : identityFromEscapedPemHeader(v);
    }
  }
  const sig = header(req.headers, 'mdm-signature');
  if (sig) return identityFromMdmSignature(sig, req.body);
  throw invalid('request carries no device certificate (mTLS, proxy header or Mdm-Signature)');
}
