const brand = Symbol.for('mdmkit.error');

/**
 * Stable codes of {@link PlistParseError}.
 *
 * - `INVALID_XML`: malformed XML structure (bad tag, unterminated comment, text where an element belongs, …).
 * - `UNKNOWN_TAG`: an element that is not part of the property list vocabulary.
 * - `MISSING_VALUE`: a `<key>` with no value after it.
 * - `EXPECTED_KEY`: a value inside `<dict>` where a `<key>` belongs.
 * - `INVALID_INTEGER`, `INTEGER_OUT_OF_RANGE`, `INVALID_REAL`, `INVALID_DATE`, `INVALID_BASE64`: bad scalar text.
 * - `INVALID_ENTITY`: an entity other than the five predefined ones, or a bad character reference.
 * - `DTD_NOT_ALLOWED`: a DOCTYPE with an internal subset (no DTD processing is done).
 * - `UNSUPPORTED_ENCODING`: a declared encoding other than UTF-8/UTF-16; `INVALID_ENCODING`: bytes that are
 *   not valid in the encoding.
 * - `EMPTY`: no value at all.
 * - `INVALID_BINARY`: bad binary header, trailer, marker or size field; `TRUNCATED`: data ends early;
 *   `OFFSET_OUT_OF_RANGE`: an offset or reference pointing outside the object table; `CYCLE`: a container
 *   that contains itself; `UNSUPPORTED_TYPE`: binary `null`/`set`/fill objects; `INVALID_KEY`: a non-string
 *   dictionary key.
 * - `LIMIT_EXCEEDED`: one of the {@link PlistLimits} was hit.
 * - `INVALID_VALUE`: a value given to a builder that no property list (or, for {@link convert}, no JSON) can hold.
 * - `NOT_REPRESENTABLE_IN_XML`: a string or key holding a character XML 1.0 cannot carry (C0 controls
 *   other than TAB/LF/CR, U+FFFE, U+FFFF, unpaired surrogates); the binary format can hold it.
 * - `INVALID_JSON`: JSON given to {@link convert} that does not parse.
 */
export type PlistErrorCode =
  | 'INVALID_XML'
  | 'UNKNOWN_TAG'
  | 'MISSING_VALUE'
  | 'EXPECTED_KEY'
  | 'INVALID_INTEGER'
  | 'INTEGER_OUT_OF_RANGE'
  | 'INVALID_REAL'
  | 'INVALID_DATE'
  | 'INVALID_BASE64'
  | 'INVALID_ENTITY'
  | 'DTD_NOT_ALLOWED'
  | 'UNSUPPORTED_ENCODING'
  | 'INVALID_ENCODING'
  | 'EMPTY'
  | 'INVALID_BINARY'
  | 'TRUNCATED'
  | 'OFFSET_OUT_OF_RANGE'
  | 'CYCLE'
  | 'UNSUPPORTED_TYPE'
  | 'INVALID_KEY'
  | 'LIMIT_EXCEEDED'
  | 'INVALID_VALUE'
  | 'NOT_REPRESENTABLE_IN_XML'
  | 'INVALID_JSON';

/** Where in the input (or in the value, for builders) an error was found. */
export interface PlistErrorLocation {
  /** Byte offset into the input (for XML given as a string or as UTF-16: into its UTF-8 encoding). */
  offset?: number;
  /** 1-based line (XML only). */
  line?: number;
  /** 1-based column, counted in bytes (XML only). */
  column?: number;
  /** Dictionary keys and array indexes from the root to the value being read. */
  keyPath?: (string | number)[];
  cause?: unknown;
}

/**
 * A property list could not be decoded, or a value could not be encoded (`code: 'INVALID_VALUE'` or
 * `'CYCLE'` from the builders). Every malformed input produces this error, never another kind.
 *
 * @example
 * ```ts
 * import { parse, PlistParseError } from '@mdmkit/plist';
 * try {
 *   parse('<plist><dict><key>A</key></dict></plist>');
 * } catch (e) {
 *   if (e instanceof PlistParseError) console.log(e.code, e.line, e.keyPath); // MISSING_VALUE 1 ['A']
 * }
 * ```
 */
export class PlistParseError extends Error {
  readonly [brand] = true;
  override readonly name = 'PlistParseError';
  readonly code: PlistErrorCode;
  readonly offset?: number;
  readonly line?: number;
  readonly column?: number;
  readonly keyPath?: (string | number)[];
  constructor(code: PlistErrorCode, message: string, location: PlistErrorLocation = {}) {
    const where: string[] = [];
    if (location.line !== undefined) where.push(`line ${location.line}, column ${location.column ?? 0}`);
    else if (location.offset !== undefined) where.push(`offset ${location.offset}`);
    if (location.keyPath && location.keyPath.length > 0) where.push(`at ${formatKeyPath(location.keyPath)}`);
    super(where.length > 0 ? `${message} (${where.join(', ')})` : message, { cause: location.cause });
    this.code = code;
    if (location.offset !== undefined) this.offset = location.offset;
    if (location.line !== undefined) this.line = location.line;
    if (location.column !== undefined) this.column = location.column;
    if (location.keyPath !== undefined) this.keyPath = location.keyPath;
  }
}

/** The package's error class under the name used across mdmkit's design documents. */
export const PlistError = PlistParseError;
/** @see {@link PlistParseError} */
export type PlistError = PlistParseError;

function formatKeyPath(path: (string | number)[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s === '' ? '(root)' : s;
}

/** True for an error thrown by any mdmkit package, across duplicate installs. */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
