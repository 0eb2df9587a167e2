const brand = Symbol.for('mdmkit.error');

/**
 * Stable codes of {@link ScepError}.
 *
 * - `BAD_REQUEST`: an HTTP request SCEP has no answer for (unknown operation, missing or malformed message).
 * - `PAYLOAD_TOO_LARGE`: a body or `message=` parameter over the configured limit.
 * - `BAD_MESSAGE`: a pkiMessage that could not be verified or decoded.
 * - `HTTP_ERROR`: the peer answered with an HTTP status other than 200 (client side).
 * - `BAD_RESPONSE`: the peer's answer was not a valid SCEP response (client side).
 * - `FINGERPRINT_MISMATCH`: no certificate from GetCACert matches the pinned fingerprint.
 * - `UNTRUSTED_RESPONSE`: a certificate the client would rely on (the one it encrypts to, the CertRep's
 *   signer, the issued certificate) does not chain to the CA or lacks the key usage its role needs.
 * - `REQUEST_FAILED`: the CA answered FAILURE; see {@link ScepError.failInfo}.
 * - `PENDING_TIMEOUT`: the CA still answered PENDING when polling gave up.
 * - `INVALID_OPTIONS`: bad configuration or command-line arguments.
 * - `DEPOT_ERROR`: the CA directory could not be read or written.
 */
export type ScepErrorCode =
  | 'BAD_REQUEST'
  | 'PAYLOAD_TOO_LARGE'
  | 'BAD_MESSAGE'
  | 'HTTP_ERROR'
  | 'BAD_RESPONSE'
  | 'FINGERPRINT_MISMATCH'
  | 'UNTRUSTED_RESPONSE'
  | 'REQUEST_FAILED'
  | 'PENDING_TIMEOUT'
  | 'INVALID_OPTIONS'
  | 'DEPOT_ERROR';

/**
 * Every error that leaves `@mdmkit/scep`.
 *
 * @example
 * ```ts
 * import { ScepError } from '@mdmkit/scep';
 * try {
 *   await client.enroll({ subject: 'CN=device', challenge: 'wrong' });
 * } catch (e) {
 *   if (e instanceof ScepError && e.code === 'REQUEST_FAILED') console.log(e.failInfo); // 'badRequest'
 * }
 * ```
 */
export class ScepError extends Error {
  readonly [brand] = true;
  override readonly name = 'ScepError';
  readonly code: ScepErrorCode;
  /** For `REQUEST_FAILED`: the failInfo the CA gave, when it gave one. */
  readonly failInfo?: string;
  /** For `HTTP_ERROR`: the HTTP status. */
  readonly status?: number;
  constructor(
    code: ScepErrorCode,
    message: string,
    options?: { cause?: unknown; failInfo?: string; status?: number },
  ) {
    super(message, { cause: options?.cause });
    this.code = code;
    if (options?.failInfo !== undefined) this.failInfo = options.failInfo;
    if (options?.status !== undefined) this.status = options.status;
  }
}

/** True for an error thrown by any mdmkit package, across duplicate installs. */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
