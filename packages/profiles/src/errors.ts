const brand = Symbol.for('mdmkit.error');

/** Stable codes of {@link ProfileError}. */
export type ProfileErrorCode =
  /** A payload's keys do not match its schema (wrong type, missing required key, value not allowed). */
  | 'INVALID_PAYLOAD'
  /** A PayloadType that no schema describes was given to a typed builder. */
  | 'UNKNOWN_PAYLOAD_TYPE'
  /** The profile's own keys (identifier, scope, removal options, consent text) are not valid. */
  | 'INVALID_PROFILE'
  /** Two payloads (or a payload and the profile) share a PayloadUUID. */
  | 'DUPLICATE_UUID'
  /** Two payloads share a PayloadIdentifier. */
  | 'DUPLICATE_IDENTIFIER'
  /** The bytes are not a property list, exceed a limit, or the top level is not a dictionary. */
  | 'MALFORMED_PROFILE'
  /** A signed profile was required but the bytes are a plain property list. */
  | 'NOT_SIGNED'
  /** The CMS signature does not verify, or the content was changed after signing. */
  | 'SIGNATURE_INVALID'
  /** The signature verifies but the signer does not chain to a trusted certificate. */
  | 'UNTRUSTED_SIGNER'
  /** Encrypted payload content could not be decrypted (one answer for every cause). */
  | 'DECRYPTION_FAILED'
  /** The enrollment-profile options are incomplete or contradictory. */
  | 'INVALID_ENROLLMENT'
  /** The Nudge options (versions, deadline, time zone) are not valid. */
  | 'INVALID_NUDGE';

/** One problem, with the path of keys that leads to it (a payload index first, where there is one). */
export interface ProfileIssue {
  path: (string | number)[];
  message: string;
}

/**
 * A profile or payload that cannot be built, signed, verified or decrypted. `keyPath` points at the
 * first problem (e.g. `['PayloadContent', 2, 'URL']`); `issues` lists all of them.
 *
 * @example
 * ```ts
 * try {
 *   securityScepPayload({ PayloadContent: { URL: 42 } } as never);
 * } catch (e) {
 *   if (e instanceof ProfileError) console.log(e.code, e.keyPath.join('.'));
 * }
 * ```
 */
export class ProfileError extends Error {
  readonly [brand] = true;
  override readonly name = 'ProfileError';
  readonly code: ProfileErrorCode;
  readonly keyPath: (string | number)[];
  readonly issues: ProfileIssue[];
  constructor(
    code: ProfileErrorCode,
    message: string,
    options?: { cause?: unknown; keyPath?: (string | number)[]; issues?: ProfileIssue[] },
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
