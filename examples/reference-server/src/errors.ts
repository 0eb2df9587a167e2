const brand = Symbol.for('mdmkit.error');

/**
 * Stable codes of {@link ReferenceServerError}.
 *
 * - `INVALID_CONFIG`: a setting (flag, environment variable or config-file key) has a value the server
 *   cannot use; {@link ReferenceServerError.setting} names it.
 * - `STARTUP_FAILED`: storage, keys or the listening socket could not be opened.
 * - `UNAUTHENTICATED`: an API request without a valid token.
 * - `FORBIDDEN`: a valid token whose role does not allow the route.
 * - `BAD_REQUEST`: an API request body or parameter the route cannot use.
 * - `NOT_FOUND`: an API request for something that does not exist.
 * - `CONFLICT`: an API request that clashes with what is stored (a user that already exists).
 */
export type ReferenceServerErrorCode =
  | 'INVALID_CONFIG'
  | 'STARTUP_FAILED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'CONFLICT';

const STATUS: Record<ReferenceServerErrorCode, number> = {
  INVALID_CONFIG: 500,
  STARTUP_FAILED: 500,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
};

/**
 * Every error that leaves the reference server's own code.
 *
 * @example
 * ```ts
 * import { ReferenceServerError } from '@mdmkit/reference-server';
 * const e = new ReferenceServerError('INVALID_CONFIG', '--listen: not HOST:PORT', { setting: 'listen' });
 * console.log(e.code, e.setting, e.status); // INVALID_CONFIG listen 500
 * ```
 */
export class ReferenceServerError extends Error {
  readonly [brand] = true;
  override readonly name = 'ReferenceServerError';
  readonly code: ReferenceServerErrorCode;
  /** For `INVALID_CONFIG`: the setting's flag name without dashes, e.g. `listen`. */
  readonly setting?: string;
  constructor(
    code: ReferenceServerErrorCode,
    message: string,
    options?: { cause?: unknown; setting?: string },
  ) {
    super(message, { cause: options?.cause });
    this.code = code;
    if (options?.setting !== undefined) this.setting = options.setting;
  }
  /** The HTTP status an API answer carries for this error. */
  get status(): number {
    return STATUS[this.code];
  }
}

/**
 * True for an error thrown by any mdmkit package, across duplicate installs.
 *
 * @example
 * ```ts
 * import { isMdmkitError } from '@mdmkit/reference-server';
 * console.log(isMdmkitError(new Error('plain'))); // false
 * ```
 */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
