import { ProtocolError } from './errors';
import type { IdentityBlock } from './identity';

/** The user id a Shared iPad sends on its user channel, where no directory user exists. */
export const SHARED_IPAD_USER_ID = 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF';

/** Kind of enrollment channel a message comes from. */
export type EnrollmentType =
  | 'device'
  | 'user'
  | 'user-enrollment-device'
  | 'user-enrollment-user'
  | 'shared-ipad-user';

/** A resolved enrollment: the id that targets commands and pushes, and what it stands for. */
export interface ResolvedEnrollment {
  /** NanoMDM-compatible enrollment id (`UDID`, `UDID:UserID`, `EnrollmentID:EnrollmentUserID`, ...). */
  id: string;
  type: EnrollmentType;
  /** Id of the device channel this enrollment belongs to (equal to `id` on device channels). */
  deviceId: string;
  /** True for user channels. */
  userChannel: boolean;
}

/**
 * Resolves the enrollment a check-in message or report belongs to, with the same ids NanoMDM uses
 * (so its API routes and migrated data keep working):
 *
 * | channel | id |
 * |---|---|
 * | device | `UDID` |
 * | User Enrollment device | `EnrollmentID` |
 * | macOS user | `UDID:UserID` |
 * | User Enrollment user | `EnrollmentID:EnrollmentUserID` |
 * | Shared iPad user | `UDID:UserShortName` |
 *
 * The rules are NanoMDM's, case for case: an empty string counts as absent; `UDID` wins over
 * `EnrollmentID`; a user is a Shared iPad user only when `UserID` equals
 * {@link SHARED_IPAD_USER_ID} exactly (any other spelling is an ordinary user id), and then the user
 * part is `UserShortName` as sent, empty when the device left it out (`UDID:`). Ids are never
 * trimmed or case-folded.
 *
 * @throws ProtocolError `MISSING_IDENTITY` when neither `UDID` nor `EnrollmentID` is a non-empty string.
 * @example
 * ```ts
 * resolveEnrollmentId({ UDID: 'A1B2', UserID: 'F151-...' });
 * // { id: 'A1B2:F151-...', type: 'user', deviceId: 'A1B2', userChannel: true }
 * ```
 */
export function resolveEnrollmentId(msg: IdentityBlock): ResolvedEnrollment {
  if (msg.UDID) {
    const deviceId = msg.UDID;
    if (!msg.UserID) return { id: deviceId, type: 'device', deviceId, userChannel: false };
    if (msg.UserID === SHARED_IPAD_USER_ID) {
      return {
        id: `${deviceId}:${msg.UserShortName ?? ''}`,
        type: 'shared-ipad-user',
        deviceId,
        userChannel: true,
      };
    }
    return { id: `${deviceId}:${msg.UserID}`, type: 'user', deviceId, userChannel: true };
  }
  if (msg.EnrollmentID) {
    const deviceId = msg.EnrollmentID;
    if (!msg.EnrollmentUserID) {
      return { id: deviceId, type: 'user-enrollment-device', deviceId, userChannel: false };
    }
    return {
      id: `${deviceId}:${msg.EnrollmentUserID}`,
      type: 'user-enrollment-user',
      deviceId,
      userChannel: true,
    };
  }
  throw new ProtocolError('MISSING_IDENTITY', 'message has neither UDID nor EnrollmentID', {
    keyPath: ['UDID'],
  });
}
