import { describe, expect, it } from 'vitest';
import { ProtocolError, resolveEnrollmentId, SHARED_IPAD_USER_ID } from '../src/index';

describe('resolveEnrollmentId (NanoMDM-compatible)', () => {
  it('device channel: UDID', () => {
    expect(resolveEnrollmentId({ UDID: 'D1' })).toEqual({
      id: 'D1',
      type: 'device',
      deviceId: 'D1',
      userChannel: false,
    });
  });
  it('macOS user channel: UDID:UserID', () => {
    expect(resolveEnrollmentId({ UDID: 'D1', UserID: 'U1', UserShortName: 'dana' })).toEqual({
      id: 'D1:U1',
      type: 'user',
      deviceId: 'D1',
      userChannel: true,
    });
  });
  it('User Enrollment device: EnrollmentID', () => {
    expect(resolveEnrollmentId({ EnrollmentID: 'E1' })).toEqual({
      id: 'E1',
      type: 'user-enrollment-device',
      deviceId: 'E1',
      userChannel: false,
    });
  });
  it('User Enrollment user: EnrollmentID:EnrollmentUserID', () => {
    expect(resolveEnrollmentId({ EnrollmentID: 'E1', EnrollmentUserID: 'EU1' })).toEqual({
      id: 'E1:EU1',
      type: 'user-enrollment-user',
      deviceId: 'E1',
      userChannel: true,
    });
  });
  it('Shared iPad user: UDID:UserShortName, recognised by the all-F UserID', () => {
    expect(
      resolveEnrollmentId({ UDID: 'D1', UserID: SHARED_IPAD_USER_ID, UserShortName: 'a@b.example' }),
    ).toEqual({
      id: 'D1:a@b.example',
      type: 'shared-ipad-user',
      deviceId: 'D1',
      userChannel: true,
    });
    expect(
      resolveEnrollmentId({ UDID: 'D1', UserID: SHARED_IPAD_USER_ID.toLowerCase(), UserShortName: 's' }).type,
    ).toBe('shared-ipad-user');
  });
  it('UDID wins over EnrollmentID; no identity at all is an error', () => {
    expect(resolveEnrollmentId({ UDID: 'D1', EnrollmentID: 'E1' }).id).toBe('D1');
    expect(() => resolveEnrollmentId({})).toThrow(ProtocolError);
    expect(() => resolveEnrollmentId({ UDID: 'D1', UserID: SHARED_IPAD_USER_ID })).toThrow(/UserShortName/);
  });
});
