const brand = Symbol.for('mdmkit.error');

/** Stable codes of {@link ProtocolError}. */
export type ProtocolErrorCode =
  /** The body is not a property list (or not a dictionary). */
  | 'INVALID_PLIST'
  /** A check-in message or report is missing a required key or has a wrong type. */
  | 'INVALID_MESSAGE'
  /** A message carries none of the keys that identify an enrollment. */
  | 'MISSING_IDENTITY'
  /** A command payload does not match its schema. */
  | 'INVALID_COMMAND'
  /** A RequestType that no schema describes. */
  | 'UNKNOWN_COMMAND'
  /** A certificate, signature or proxy header that identifies a device could not be used. */
  | 'INVALID_IDENTITY'
  /** An argument of a public function that it cannot accept (wrong shape or missing intent). */
  | 'INVALID_ARGUMENT';

/**
 * One problem found while validating: where (the path of keys), what the schema expects there and
 * what kind of value was found (a type, never the value itself, which may be a secret).
 */
export interface ProtocolIssue {
  path: (string | number)[];
  /** What the schema expects, e.g. `number`, `one of "Acknowledged", "Error"`. */
  expected: string;
  /** What was found, e.g. `string`, `nothing`, `integer beyond 2^53 (bigint)`. */
  got: string;
  /** A readable sentence about the problem. */
  message: string;
}

/**
 * The shape shared by the errors of the packages that validate keyed documents (protocol,
 * commands): a stable `code`, the key path of the first problem and every issue. Each package
 * subclasses it with its own name and codes.
 *
 * @example
 * ```ts
 * class ExampleError extends KeyPathError<'BAD'> {
 *   override readonly name = 'ExampleError';
 * }
 * ```
 */
export class KeyPathError<C extends string> extends Error {
  readonly [brand] = true;
  readonly code: C;
  readonly keyPath: (string | number)[];
  readonly issues: ProtocolIssue[];
  constructor(
    code: C,
    message: string,
    options?: { cause?: unknown; keyPath?: (string | number)[]; issues?: ProtocolIssue[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.keyPath = options?.keyPath ?? [];
    this.issues = options?.issues ?? [];
  }
}

/**
 * A device message, report or command that does not follow the protocol. `keyPath` points at the
 * first problem (e.g. `['QueryResponses', 'BatteryLevel']`); `issues` lists all of them.
 *
 * @example
 * ```ts
 * try {
 *   decodeCheckin(body);
 * } catch (e) {
 *   if (e instanceof ProtocolError) console.log(e.code, e.keyPath.join('.'));
 * }
 * ```
 */
export class ProtocolError extends KeyPathError<ProtocolErrorCode> {
  override readonly name = 'ProtocolError';
}

/**
 * True for an error thrown by any mdmkit package, across duplicate installs.
 *
 * @example
 * ```ts
 * try {
 *   decodeCheckin(body);
 * } catch (e) {
 *   if (isMdmkitError(e)) console.log(e.code); // any mdmkit package's error
 * }
 * ```
 */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
