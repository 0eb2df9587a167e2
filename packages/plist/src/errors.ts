const brand = Symbol.for('mdmkit.error');

/** Stable codes of {@link PlistParseError}. */
export type PlistErrorCode = 'INVALID_XML' | 'LIMIT_EXCEEDED';

/** A property list could not be decoded. */
export class PlistParseError extends Error {
  readonly [brand] = true;
  override readonly name = 'PlistParseError';
  readonly code: PlistErrorCode;
  constructor(code: PlistErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True for an error thrown by any mdmkit package, across duplicate installs. */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
