import type { Certificate } from './certificate';
import { CryptoError } from './errors';
import { fastVerifyDetached } from './fast-signed-data';
import { verifyCmsSync } from './signed-data';

/** Upper bound on the decoded header; real Mdm-Signature values are a few KB. */
const MAX_SIGNATURE_BYTES = 64 * 1024;

/**
 * Verifies an `Mdm-Signature` header — base64 of a detached CMS SignedData over the raw request
 * body — and returns the signing certificate. The signer's chain and its association with the
 * enrollment are the caller's to check (see {@link verifyCertificateChain}).
 *
 * This is the per-request hot path: the CMS is walked with the package's DER reader and the
 * signer certificate (with its imported public key) is cached by SHA-256, so a known device costs
 * little more than the RSA/ECDSA verification itself.
 *
 * Throws `CryptoError`: `SIGNATURE_INVALID`, `INVALID_CMS` (including bad base64),
 * `UNSUPPORTED_ALGORITHM`, `LIMIT_EXCEEDED`.
 *
 * @example
 * ```ts
 * const body = new Uint8Array(await request.arrayBuffer());
 * const cert = await verifyMdmSignature(request.headers.get('mdm-signature') ?? '', body);
 * verifyCertificateChain(cert, { trusted: [identityCa], requiredEku: 'clientAuth' });
 * ```
 */
export async function verifyMdmSignature(headerValue: string, body: Uint8Array): Promise<Certificate> {
  return verifyMdmSignatureSync(headerValue, body);
}

/**
 * Synchronous {@link verifyMdmSignature}, for callers that want no microtask hop.
 *
 * @example
 * ```ts
 * const cert = verifyMdmSignatureSync(header, body);
 * ```
 */
export function verifyMdmSignatureSync(headerValue: string, body: Uint8Array): Certificate {
  if (typeof headerValue !== 'string' || headerValue.length === 0) {
    throw new CryptoError('INVALID_CMS', 'empty Mdm-Signature');
  }
  if (headerValue.length > (MAX_SIGNATURE_BYTES * 4) / 3 + 1024) {
    throw new CryptoError('LIMIT_EXCEEDED', 'Mdm-Signature is too large');
  }
  if (!(body instanceof Uint8Array)) throw new CryptoError('INVALID_CMS', 'body must be a Uint8Array');
  // Buffer skips characters outside the alphabet; whatever that leaves must still parse and verify.
  const der = Buffer.from(headerValue, 'base64');
  if (der.length === 0) throw new CryptoError('INVALID_CMS', 'Mdm-Signature is not base64');
  const fast = fastVerifyDetached(der, body);
  if (fast) return fast;
  // Not the common shape, or it does not verify: the general verifier decides and names the error.
  try {
    return verifyCmsSync(der, { detachedContent: body }, true).signer;
  } catch (e) {
    if (e instanceof CryptoError) {
      if (e.code === 'INVALID_DER')
        throw new CryptoError('INVALID_CMS', `malformed CMS: ${e.message}`, { cause: e });
      throw e;
    }
    throw new CryptoError('INVALID_CMS', 'malformed CMS', { cause: e });
  }
}
