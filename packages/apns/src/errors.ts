const brand = Symbol.for('mdmkit.error');

/** Stable codes of {@link ApnsError}. */
export type ApnsErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_CERTIFICATE'
  | 'INVALID_TOPIC'
  | 'CERTIFICATE_EXPIRED'
  | 'CERTIFICATE_NOT_YET_VALID'
  | 'KEY_MISMATCH'
  | 'TOPIC_MISMATCH'
  | 'NO_CERTIFICATE'
  | 'CONNECTION_FAILED'
  | 'TIMEOUT'
  | 'CLOSED';

/** Every error that leaves `@mdmkit/apns`. Certificate and key material never appears in messages. */
export class ApnsError extends Error {
  readonly [brand] = true;
  override readonly name = 'ApnsError';
  readonly code: ApnsErrorCode;
  constructor(code: ApnsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True for an error thrown by any mdmkit package, across duplicate installs. */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
