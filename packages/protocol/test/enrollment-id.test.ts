import { describe, expect, it } from 'vitest';
import {
  type IdentityBlock,
  ProtocolError,
  type ResolvedEnrollment,
  resolveEnrollmentId,
  SHARED_IPAD_USER_ID,
} from '../src/index';

// Every case NanoMDM's resolution distinguishes (mdm.Enrollment.Resolved plus the service's
// normalizer): the first non-empty of UDID / EnrollmentID names the device channel; on UDID a
// non-empty UserID makes a user channel, which is a Shared iPad user only when UserID equals the
// all-F id exactly, and then the user part is UserShortName as sent (possibly empty); on EnrollmentID
// a non-empty EnrollmentUserID makes the user channel. Ids are device, or device + ':' + user.
const cases: [string, IdentityBlock, ResolvedEnrollment][] = [
  ['device', { UDID: 'D1' }, { id: 'D1', type: 'device', deviceId: 'D1', userChannel: false }],
  [
    'device, extra user names without UserID are ignored',
    { UDID: 'D1', UserShortName: 'dana', UserLongName: 'Dana' },
    { id: 'D1', type: 'device', deviceId: 'D1', userChannel: false },
  ],
  [
    'macOS user channel',
    { UDID: 'D1', UserID: 'U1', UserShortName: 'dana' },
    { id: 'D1:U1', type: 'user', deviceId: 'D1', userChannel: true },
  ],
  [
    'macOS user channel without UserShortName',
    { UDID: 'D1', UserID: 'U1' },
    { id: 'D1:U1', type: 'user', deviceId: 'D1', userChannel: true },
  ],
  [
    'Shared iPad user',
    { UDID: 'D1', UserID: SHARED_IPAD_USER_ID, UserShortName: 'a@b.example' },
    { id: 'D1:a@b.example', type: 'shared-ipad-user', deviceId: 'D1', userChannel: true },
  ],
  [
    'Shared iPad user id is compared exactly: lower case is an ordinary user id',
    { UDID: 'D1', UserID: SHARED_IPAD_USER_ID.toLowerCase(), UserShortName: 's' },
    {
      id: `D1:${SHARED_IPAD_USER_ID.toLowerCase()}`,
      type: 'user',
      deviceId: 'D1',
      userChannel: true,
    },
  ],
  [
    'Shared iPad user without UserShortName still resolves (empty user part)',
    { UDID: 'D1', UserID: SHARED_IPAD_USER_ID },
    { id: 'D1:', type: 'shared-ipad-user', deviceId: 'D1', userChannel: true },
  ],
  [
    'Shared iPad user with an empty UserShortName',
    { UDID: 'D1', UserID: SHARED_IPAD_USER_ID, UserShortName: '' },
    { id: 'D1:', type: 'shared-ipad-user', deviceId: 'D1', userChannel: true },
  ],
  [
    'an empty UserID is no user channel',
    { UDID: 'D1', UserID: '' },
    { id: 'D1', type: 'device', deviceId: 'D1', userChannel: false },
  ],
  [
    'User Enrollment device',
    { EnrollmentID: 'E1' },
    { id: 'E1', type: 'user-enrollment-device', deviceId: 'E1', userChannel: false },
  ],
  [
    'User Enrollment user',
    { EnrollmentID: 'E1', EnrollmentUserID: 'EU1' },
    { id: 'E1:EU1', type: 'user-enrollment-user', deviceId: 'E1', userChannel: true },
  ],
  [
    'User Enrollment: UserID is not looked at',
    { EnrollmentID: 'E1', UserID: 'U1' },
    { id: 'E1', type: 'user-enrollment-device', deviceId: 'E1', userChannel: false },
  ],
  [
    'User Enrollment: an empty EnrollmentUserID is no user channel',
    { EnrollmentID: 'E1', EnrollmentUserID: '' },
    { id: 'E1', type: 'user-enrollment-device', deviceId: 'E1', userChannel: false },
  ],
  [
    'UDID wins over EnrollmentID',
    { UDID: 'D1', EnrollmentID: 'E1', EnrollmentUserID: 'EU1' },
    { id: 'D1', type: 'device', deviceId: 'D1', userChannel: false },
  ],
  [
    'an empty UDID falls through to EnrollmentID',
    { UDID: '', EnrollmentID: 'E1' },
    { id: 'E1', type: 'user-enrollment-device', deviceId: 'E1', userChannel: false },
  ],
  [
    'ids are kept exactly as sent (no trimming, no case change)',
    { UDID: ' d1 ', UserID: 'u1 ' },
    { id: ' d1 :u1 ', type: 'user', deviceId: ' d1 ', userChannel: true },
  ],
];

describe('resolveEnrollmentId matches NanoMDM case for case', () => {
  for (const [name, message, expected] of cases) {
    it(name, () => {
      expect(resolveEnrollmentId(message)).toEqual(expected);
    });
  }

  it('no UDID and no EnrollmentID (or both empty) is MISSING_IDENTITY', () => {
    for (const message of [{}, { UDID: '', EnrollmentID: '' }, { UserID: 'U1', EnrollmentUserID: 'EU1' }]) {
      try {
        resolveEnrollmentId(message);
        throw new Error('expected failure');
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        expect((e as ProtocolError).code).toBe('MISSING_IDENTITY');
      }
    }
  });
});
