const brand = Symbol.for('mdmkit.error');

/**
 * Stable codes of {@link HttpError}.
 *
 * - `BODY_TOO_LARGE`: the declared or streamed request body went over `maxBodyBytes` (answered 413).
 * - `BODY_TIMEOUT`: the request body did not arrive within `bodyTimeoutMs` (answered 408).
 * - `BODY_UNREADABLE`: the body stream failed, usually because the client went away.
 * - `HANDLER_FAILED`: the handler threw or rejected (answered 500).
 * - `BAD_RESPONSE`: the handler returned something that is not a valid {@link HttpResponse} (answered 500).
 * - `BAD_CLIENT_CERT_HEADER`: a trusted proxy sent a client-certificate header that could not be decoded.
 * - `INVALID_OPTIONS`: bad adapter, router or server configuration.
 */
export type HttpErrorCode =
  | 'BODY_TOO_LARGE'
  | 'BODY_TIMEOUT'
  | 'BODY_UNREADABLE'
  | 'HANDLER_FAILED'
  | 'BAD_RESPONSE'
  | 'BAD_CLIENT_CERT_HEADER'
  | 'INVALID_OPTIONS';

/**
 * Every error that leaves `@mdmkit/http`: thrown for bad configuration, and handed to `onError` for
 * what went wrong while serving a request (the client only ever sees a plain status line).
 *
 * @example
 * ```ts
 * import { HttpError, toNodeListener } from '@mdmkit/http';
 * const listener = toNodeListener(handler, {
 *   onError: (e: HttpError) => {
 *     if (e.code === 'HANDLER_FAILED') log.error({ cause: e.cause }, 'handler failed');
 *   },
 * });
 * ```
 */
export class HttpError extends Error {
  readonly [brand] = true;
  override readonly name = 'HttpError';
  readonly code: HttpErrorCode;
  constructor(code: HttpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** True for an error thrown by any mdmkit package, across duplicate installs. */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
