const brand = Symbol.for('mdmkit.error');

/** Stable codes of {@link DeclarativeError}. */
export type DeclarativeErrorCode =
  /** A declaration payload, identifier or option does not match its schema. */
  | 'INVALID_DECLARATION'
  /** A `Type` that no schema describes, where a known type is needed. */
  | 'UNKNOWN_DECLARATION_TYPE'
  /** A value that JSON cannot carry (NaN, Infinity, bigint, a function, a cycle, too deep). */
  | 'NOT_JSON'
  /** Two declarations of one set share an `Identifier`. */
  | 'DUPLICATE_IDENTIFIER'
  /** An activation names a configuration that the set does not hold. */
  | 'MISSING_REFERENCE'
  /** A DDM endpoint that the protocol does not define. */
  | 'UNKNOWN_ENDPOINT'
  /** A status report body that is not a JSON object. */
  | 'INVALID_STATUS_REPORT'
  /** Input larger or more numerous than the configured limits. */
  | 'LIMIT_EXCEEDED'
  /** OS-update input (version, deadline, time zone) that cannot be turned into a declaration. */
  | 'INVALID_OS_UPDATE';

/** One problem found while validating, with the path of keys that leads to it. */
export interface DeclarativeIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Something we were asked to build is invalid, or a device sent a body we cannot read at all.
 * `keyPath` points at the first problem; `issues` lists all of them.
 *
 * @example
 * ```ts
 * try {
 *   passcodeSettings({ MinimumLength: 'six' as never });
 * } catch (e) {
 *   if (e instanceof DeclarativeError) console.log(e.code, e.keyPath.join('.')); // INVALID_DECLARATION MinimumLength
 * }
 * ```
 */
export class DeclarativeError extends Error {
  readonly [brand] = true;
  override readonly name = 'DeclarativeError';
  readonly code: DeclarativeErrorCode;
  readonly keyPath: (string | number)[];
  readonly issues: DeclarativeIssue[];
  constructor(
    code: DeclarativeErrorCode,
    message: string,
    options?: { cause?: unknown; keyPath?: (string | number)[]; issues?: DeclarativeIssue[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.keyPath = options?.keyPath ?? [];
    this.issues = options?.issues ?? [];
  }
}

/** True for an error thrown by any mdmkit package, across duplicate installs. */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
