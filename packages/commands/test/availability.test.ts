import { describe, expect, it } from 'vitest';
import {
  AccessRight,
  ALL_ACCESS_RIGHTS,
  accessRightBits,
  availability,
  compareVersions,
  hasAccessRights,
  isAvailable,
  knownAccessRightNames,
  requiredAccessRights,
} from '../src/index';
import { commandDefinitions } from '../src/schemas';

describe('isAvailable', () => {
  it('checks OS and version', () => {
    expect(isAvailable('SetRecoveryLock', { os: 'iOS' })).toBe(false);
    expect(isAvailable('SetRecoveryLock', { os: 'macOS', version: '11.5' })).toBe(true);
    expect(availability('SetRecoveryLock', { os: 'macOS', version: '10.15' })).toEqual({
      available: false,
      reason: 'too-old',
    });
    expect(availability('NoSuchCommand', { os: 'macOS' })).toEqual({
      available: false,
      reason: 'unknown-command',
    });
  });

  it('checks the channel', () => {
    expect(isAvailable('DeviceLock', { os: 'macOS', channel: 'device' })).toBe(true);
    expect(availability('DeviceLock', { os: 'macOS', channel: 'user' })).toEqual({
      available: false,
      reason: 'channel',
    });
    expect(isAvailable('ProfileList', { os: 'macOS', channel: 'user' })).toBe(true);
    // Shared iPad: DeviceLock goes to the device channel only.
    expect(isAvailable('DeviceLock', { os: 'iOS', sharedIpad: true, channel: 'user' })).toBe(false);
    expect(isAvailable('DeviceLock', { os: 'iOS', sharedIpad: true, channel: 'device' })).toBe(true);
  });

  it('checks supervision and User Enrollment', () => {
    const sup = Object.values(commandDefinitions).find((d) => d.support.iOS?.supervised === true)!;
    expect(sup).toBeDefined();
    expect(availability(sup, { os: 'iOS', version: '99.0' })).toEqual({
      available: false,
      reason: 'supervised',
    });
    expect(isAvailable(sup, { os: 'iOS', version: '99.0', supervised: true })).toBe(
      availability(sup, { os: 'iOS', version: '99.0', supervised: true, userEnrollment: false }).available,
    );
    expect(availability('DeviceLock', { os: 'macOS', userEnrollment: true })).toEqual({
      available: false,
      reason: 'user-enrollment',
    });
    expect(isAvailable('DeviceLock', { os: 'iOS', userEnrollment: true })).toBe(true);
  });

  it('EraseDevice on a supervised iOS 17 device channel', () => {
    expect(
      isAvailable('EraseDevice', { os: 'iOS', version: '17.4', supervised: true, channel: 'device' }),
    ).toBe(true);
  });

  it('compares versions numerically', () => {
    expect(compareVersions('10.15', '10.9')).toBeGreaterThan(0);
    expect(compareVersions('14', '14.0.0')).toBe(0);
    expect(compareVersions('13.6', '14.0')).toBeLessThan(0);
  });
});

describe('access rights', () => {
  it('every access-right spelling in the generated definitions maps through the alias table', () => {
    const names = new Set<string>();
    for (const def of Object.values(commandDefinitions)) {
      for (const s of Object.values(def.support)) if (s?.accessRights) names.add(s.accessRights);
      for (const v of Object.values(def.valueAccessRights ?? {}))
        for (const r of Object.values(v)) names.add(r!);
    }
    expect(names.size).toBeGreaterThan(10);
    for (const n of names) expect(knownAccessRightNames()).toContain(n);
  });

  it('maps both spellings of a right to the same bit, None and n/a to 0', () => {
    expect(accessRightBits('DeviceLockAndRemovePasscode')).toBe(AccessRight.DeviceLockAndPasscodeRemoval);
    expect(accessRightBits('AllowPasscodeRemovalAndLock')).toBe(4);
    expect(accessRightBits('QueryInstalledApps')).toBe(accessRightBits('AllowQueryApplications'));
    expect(accessRightBits('None')).toBe(0);
    expect(accessRightBits('n/a')).toBe(0);
    expect(() => accessRightBits('AllowEverything')).toThrow(/unknown access right/);
    const bits = Object.values(AccessRight);
    expect(bits.reduce((a, b) => a | b, 0)).toBe(ALL_ACCESS_RIGHTS);
  });

  it('computes the right a command needs, DeviceInformation per query', () => {
    expect(requiredAccessRights('EraseDevice', 'iOS')).toBe(AccessRight.DeviceErase);
    expect(requiredAccessRights('RotateFileVaultKey', 'macOS')).toBe(
      AccessRight.DeviceLockAndPasscodeRemoval,
    );
    expect(requiredAccessRights('DeviceInformation', 'iOS', { Queries: ['WiFiMAC'] })).toBe(
      AccessRight.QueryNetworkInformation,
    );
    expect(requiredAccessRights('DeviceInformation', 'iOS', { Queries: ['OSVersion', 'WiFiMAC'] })).toBe(
      AccessRight.QueryNetworkInformation | AccessRight.QueryDeviceInformation,
    );
    expect(requiredAccessRights('DeviceInformation', 'iOS', { Queries: ['UDID'] })).toBe(0);
    expect(hasAccessRights(ALL_ACCESS_RIGHTS, 'DeviceLock', 'macOS')).toBe(true);
    expect(hasAccessRights(AccessRight.ProfileInspection, 'DeviceLock', 'macOS')).toBe(false);
    expect(hasAccessRights(0, 'ActivationLockBypassCode', 'iOS')).toBe(true);
  });
});
