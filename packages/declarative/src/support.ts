/** Operating systems Apple's schemas describe. */
export type OsName = 'iOS' | 'macOS' | 'tvOS' | 'visionOS' | 'watchOS';

/** Enrollment types a declaration or status item is allowed in. */
export type EnrollmentType = 'supervised' | 'device' | 'user' | 'local';

/** Facts about one OS, as generated from a declarative schema's `supportedOS` entry. */
export interface DeclarativeOsSupport {
  /** First OS version, or `n/a` when the OS does not support it. */
  introduced?: string;
  deprecated?: string;
  removed?: string;
  /** Enrollment types the item is allowed in (`supervised`, `device`, `user`, `local`). */
  allowedEnrollments?: readonly string[];
  /** `system` and/or `user`: the channels the item is allowed on. */
  allowedScopes?: readonly string[];
  /** The channels allowed on Shared iPad. */
  sharedIpadScopes?: readonly string[];
}

/** Per-OS facts; an OS that is missing does not support the item. */
export type DeclarativeSupport = Partial<Record<OsName, DeclarativeOsSupport>>;
