const brand = Symbol.for('mdmkit.error');

/**
 * Stable codes of {@link ServerError}, each with the HTTP status a device receives for it:
 *
 * - `NO_IDENTITY` (403): the request carries no client certificate and no `Mdm-Signature`.
 * - `BAD_IDENTITY` (403): the `Mdm-Signature` does not verify over the body, or the certificate does not parse.
 * - `UNTRUSTED_CERTIFICATE` (403): the certificate does not chain to the SCEP CA or a configured extra CA, or is out of date.
 * - `NOT_ASSOCIATED` (403): the certificate belongs to another enrollment, or to none while the message needs one.
 * - `BAD_MESSAGE` (400): the body is not a check-in or report this server understands.
 * - `BLOCKED` (401): the enrollment was blocked on purpose (the only path to a 401).
 * - `ENROLLMENT_REFUSED` (403): the enrollment-profile request was refused by the authorization callback.
 * - `MIGRATION_REFUSED` (403): a migration import was refused by its authorization hook.
 * - `NOT_FOUND` (404): an admin operation named an enrollment this server does not hold.
 * - `INTERNAL` (500): storage or another dependency failed; the device retries later.
 * - `INVALID_OPTIONS`: bad configuration (thrown at start-up, never sent).
 */
export type ServerErrorCode =
  | 'NO_IDENTITY'
  | 'BAD_IDENTITY'
  | 'UNTRUSTED_CERTIFICATE'
  | 'NOT_ASSOCIATED'
  | 'BAD_MESSAGE'
  | 'BLOCKED'
  | 'ENROLLMENT_REFUSED'
  | 'MIGRATION_REFUSED'
  | 'NOT_FOUND'
  | 'INTERNAL'
  | 'INVALID_OPTIONS';

const STATUS: Record<ServerErrorCode, number> = {
  NO_IDENTITY: 403,
  BAD_IDENTITY: 403,
  UNTRUSTED_CERTIFICATE: 403,
  NOT_ASSOCIATED: 403,
  BAD_MESSAGE: 400,
  BLOCKED: 401,
  ENROLLMENT_REFUSED: 403,
  MIGRATION_REFUSED: 403,
  NOT_FOUND: 404,
  INTERNAL: 500,
  INVALID_OPTIONS: 500,
};

/**
 * Every error of `@mdmkit/server`. A link of the service chain throws one to stop a request; the
 * endpoint turns it into {@link ServerError.status} with a short text body, and reports it as an
 * `error` event with its `cause`.
 *
 * @example
 * ```ts
 * import { ServerError } from '@mdmkit/server';
 * const e = new ServerError('NOT_ASSOCIATED', 'certificate belongs to another enrollment');
 * e.status; // 403
 * ```
 */
export class ServerError extends Error {
  readonly [brand] = true;
  override readonly name = 'ServerError';
  readonly code: ServerErrorCode;
  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
  /** The HTTP status this error is answered with. */
  get status(): number {
    return STATUS[this.code];
  }
}

/**
 * True for an error thrown by any mdmkit package, across duplicate installs.
 *
 * @example
 * ```ts
 * import { isMdmkitError } from '@mdmkit/server';
 * isMdmkitError(new Error('x')); // false
 * ```
 */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}

/**
 * Wraps anything that is not already a ServerError as INTERNAL. @internal
 *
 * @example
 * ```ts
 * asServerError(new Error('db down')).status; // 500
 * ```
 */
export function asServerError(e: unknown): ServerError {
  if (e instanceof ServerError) return e;
  return new ServerError('INTERNAL', 'request failed', { cause: e });
}
