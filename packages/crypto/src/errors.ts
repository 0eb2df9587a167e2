const brand = Symbol.for('mdmkit.error');

/**
 * Stable codes of {@link CryptoError}. Decryption failures of any kind (bad padding, wrong key,
 * tampered ciphertext) share `DECRYPT_FAILED` so that callers cannot become a padding oracle.
 */
export type CryptoErrorCode =
  | 'INVALID_DER'
  | 'INVALID_PEM'
  | 'INVALID_KEY'
  | 'KEY_MISMATCH'
  | 'INVALID_CERTIFICATE'
  | 'INVALID_CSR'
  | 'INVALID_CMS'
  | 'INVALID_PKCS12'
  | 'BAD_PASSWORD'
  | 'UNSUPPORTED_ALGORITHM'
  | 'SIGNATURE_INVALID'
  | 'CHAIN_INVALID'
  | 'CERTIFICATE_EXPIRED'
  | 'CERTIFICATE_NOT_YET_VALID'
  | 'NO_MATCHING_RECIPIENT'
  | 'DECRYPT_FAILED'
  | 'SEALED_SECRET_INVALID'
  | 'KEY_PROVIDER_FAILED'
  | 'LIMIT_EXCEEDED';

/** Every error that leaves `@mdmkit/crypto`; ASN.1 library errors are wrapped as its `cause`. */
export class CryptoError extends Error {
  readonly [brand] = true;
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True for an error thrown by any mdmkit package, across duplicate installs. */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
