/** Operating systems Apple's schemas describe. */
export type OsName = 'iOS' | 'macOS' | 'tvOS' | 'visionOS' | 'watchOS';

/** How a feature relates to Shared iPad or User Enrollment. */
export type SupportMode = 'allowed' | 'required' | 'forbidden' | 'ignored';

/** Facts about one OS, as generated from the schema's `supportedOS` entry. */
export interface OsSupport {
  /** First OS version, or `n/a` when the OS does not support it. */
  introduced?: string;
  deprecated?: string;
  removed?: string;
  /** Access right name as spelled in the schema (see `accessRightBits`). */
  accessRights?: string;
  supervised?: boolean;
  requiresDep?: boolean;
  userApprovedMdm?: boolean;
  deviceChannel?: boolean;
  userChannel?: boolean;
  sharedIpad?: { mode?: string; deviceChannel?: boolean; userChannel?: boolean };
  userEnrollment?: { mode?: string };
}

/** Per-OS facts; an OS that is missing does not support the command or payload type. */
export type Support = Partial<Record<OsName, OsSupport>>;
