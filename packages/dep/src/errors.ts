const brand = Symbol.for('mdmkit.error');

/** Stable codes of {@link DepError}. */
export type DepErrorCode =
  /** The server token file could not be opened or read (corrupt, wrong key, bad JSON, missing fields). */
  | 'INVALID_TOKEN'
  /** Invalid arguments given to a builder or client method (refused before anything is sent). */
  | 'INVALID_INPUT'
  /** Apple refused the OAuth credentials or session (401/403 after a fresh session). */
  | 'UNAUTHORIZED'
  /** The organisation must accept new terms and conditions in Apple Business Manager (`T_C_NOT_SIGNED`). */
  | 'TERMS_NOT_SIGNED'
  /** 403 other than a stale session, e.g. `ACCESS_DENIED`. */
  | 'FORBIDDEN'
  /** The sync cursor has no more changes (`EXHAUSTED_CURSOR`). */
  | 'CURSOR_EXHAUSTED'
  /** The cursor is unknown to Apple (`INVALID_CURSOR`); start over with a full fetch. */
  | 'CURSOR_INVALID'
  /** The cursor is older than Apple keeps them (`EXPIRED_CURSOR`); start over with a full fetch. */
  | 'CURSOR_EXPIRED'
  /** A sync was asked for without a cursor (`CURSOR_REQUIRED`). */
  | 'CURSOR_REQUIRED'
  /** 429/503 still answered after the bounded retries. */
  | 'RATE_LIMITED'
  /** Any other non-2xx status. */
  | 'HTTP_ERROR'
  /** The response body is not the JSON the endpoint promises (HTML error page, truncated, missing fields). */
  | 'INVALID_RESPONSE'
  /** The connection failed or the response did not arrive in time. */
  | 'NETWORK'
  /** The syncer lost its lease (another replica took over) while working. */
  | 'LEASE_LOST';

/**
 * The one error class of `@mdmkit/dep`. `status` and `body` carry the HTTP status and Apple's error
 * string (e.g. `INVALID_CURSOR`) when the error came from an answer.
 *
 * @example
 * ```ts
 * try {
 *   await client.syncDevices(cursor);
 * } catch (e) {
 *   if (e instanceof DepError && e.code === 'CURSOR_EXPIRED') cursor = undefined; // full fetch again
 * }
 * ```
 */
export class DepError extends Error {
  readonly [brand] = true;
  override readonly name = 'DepError';
  readonly code: DepErrorCode;
  readonly status: number | undefined;
  readonly body: string | undefined;
  constructor(
    code: DepErrorCode,
    message: string,
    options?: { cause?: unknown; status?: number; body?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options?.status;
    this.body = options?.body;
  }
}

/** True for a {@link DepError}. */
export function isDepError(e: unknown): e is DepError {
  return e instanceof DepError;
}

/** True for an error thrown by any mdmkit package, across duplicate installs. */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
