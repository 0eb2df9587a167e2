import { z } from 'zod';

/**
 * The keys that say which enrollment a message comes from. Apple's schemas list them per message
 * with advisory presence; which ones appear really depends on the channel:
 *
 * - device channel: `UDID` (User Enrollment: `EnrollmentID` instead);
 * - macOS user channel: `UDID` plus `UserID`, `UserShortName`, `UserLongName` (and `NotOnConsole`);
 * - User Enrollment user channel: `EnrollmentID` plus `EnrollmentUserID`;
 * - Shared iPad user: `UDID` plus `UserShortName` (Managed Apple Account) and `UserID`.
 *
 * All are optional here; {@link resolveEnrollmentId} decides which combination is present.
 */
export interface IdentityBlock {
  UDID?: string;
  EnrollmentID?: string;
  EnrollmentUserID?: string;
  UserID?: string;
  UserShortName?: string;
  UserLongName?: string;
  NotOnConsole?: boolean;
}

/** zod shape of {@link IdentityBlock}, spread into every generated check-in schema. */
export const identityShape = {
  UDID: z.string().optional(),
  EnrollmentID: z.string().optional(),
  EnrollmentUserID: z.string().optional(),
  UserID: z.string().optional(),
  UserShortName: z.string().optional(),
  UserLongName: z.string().optional(),
  NotOnConsole: z.boolean().optional(),
};

/** Validator of the identity block alone. */
export const IdentityBlockSchema: z.ZodType<IdentityBlock> = z.looseObject(identityShape);
