const brand = Symbol.for('mdmkit.error');

/** Stable codes of {@link TestkitError}. */
export type TestkitErrorCode =
  | 'INVALID_OPTIONS'
  | 'LISTEN_FAILED'
  | 'CLOSED'
  | 'INVALID_PROFILE'
  | 'ENROLL_FAILED'
  | 'REQUEST_FAILED'
  /** The device unenrolled (its MDM profile is gone) and sends nothing more. */
  | 'UNENROLLED'
  | 'USAGE';

/** An error raised by a testkit mock or helper. */
export class TestkitError extends Error {
  readonly [brand] = true;
  override readonly name = 'TestkitError';
  readonly code: TestkitErrorCode;
  constructor(code: TestkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True for an error thrown by any mdmkit package, across duplicate installs. */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
