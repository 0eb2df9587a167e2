import type { CommandDefinition } from './define';
import { CommandError } from './errors';
import { getCommand } from './lookup';
import type { OsName } from './support';

/**
 * Bits of the MDM payload's `AccessRights` integer (com.apple.mdm). A command needs its bit set in
 * the enrollment profile.
 */
export const AccessRight = {
  ProfileInspection: 1,
  ProfileInstallRemove: 2,
  DeviceLockAndPasscodeRemoval: 4,
  DeviceErase: 8,
  QueryDeviceInformation: 16,
  QueryNetworkInformation: 32,
  ProvisioningProfileInspection: 64,
  ProvisioningProfileInstallRemove: 128,
  QueryApplications: 256,
  QueryRestrictions: 512,
  QuerySecurity: 1024,
  ChangeSettings: 2048,
  AppManagement: 4096,
} as const;

/** Every right: the usual value of `AccessRights` for a fully managed device. */
export const ALL_ACCESS_RIGHTS = 8191;

/**
 * The one table from the access-right spellings used in Apple's schemas to AccessRights bits. The
 * files name some rights two ways (`AllowPasscodeRemovalAndLock` / `DeviceLockAndRemovePasscode`,
 * `AllowQueryApplications` / `QueryInstalledApps`); `None` and `n/a` need no right.
 */
const ALIASES: Readonly<Record<string, number>> = {
  None: 0,
  'n/a': 0,
  AllowInspection: AccessRight.ProfileInspection,
  AllowInstallationRemoval: AccessRight.ProfileInstallRemove,
  AllowPasscodeRemovalAndLock: AccessRight.DeviceLockAndPasscodeRemoval,
  DeviceLockAndRemovePasscode: AccessRight.DeviceLockAndPasscodeRemoval,
  AllowDeviceErase: AccessRight.DeviceErase,
  AllowQueryDeviceInformation: AccessRight.QueryDeviceInformation,
  AllowQueryNetworkInformation: AccessRight.QueryNetworkInformation,
  AllowProvisioningInspection: AccessRight.ProvisioningProfileInspection,
  AllowProvisioningInstallationRemoval: AccessRight.ProvisioningProfileInstallRemove,
  AllowQueryApplications: AccessRight.QueryApplications,
  QueryInstalledApps: AccessRight.QueryApplications,
  AllowQueryRestrictions: AccessRight.QueryRestrictions,
  AllowQuerySecurity: AccessRight.QuerySecurity,
  AllowSettings: AccessRight.ChangeSettings,
  AllowAppInstallation: AccessRight.AppManagement,
};

/** The schema spelling that means "depends on the payload" (DeviceInformation's queries). */
const SPECIAL_CASE = 'Special Case';

/**
 * The AccessRights bits for one access-right name as spelled in the schemas.
 *
 * @throws CommandError `UNKNOWN_ACCESS_RIGHT` for a name the alias table does not know (a new schema
 * release; add it to the table).
 * @example
 * ```ts
 * accessRightBits('DeviceLockAndRemovePasscode') === accessRightBits('AllowPasscodeRemovalAndLock'); // true (4)
 * ```
 */
export function accessRightBits(name: string): number {
  const bits = ALIASES[name];
  if (bits === undefined)
    throw new CommandError('UNKNOWN_ACCESS_RIGHT', `unknown access right name: ${name}`);
  return bits;
}

/**
 * Every access-right spelling the alias table knows, including `Special Case`.
 *
 * @example
 * ```ts
 * knownAccessRightNames().includes('AllowDeviceErase'); // true
 * ```
 */
export function knownAccessRightNames(): string[] {
  return [...Object.keys(ALIASES), SPECIAL_CASE];
}

/**
 * AccessRights bits a command needs on one OS. For DeviceInformation the bits depend on the queried
 * keys: pass the payload (its `Queries`); without it, every query's right is included.
 *
 * @throws CommandError `UNKNOWN_COMMAND` for a RequestType no schema describes.
 * @example
 * ```ts
 * requiredAccessRights('EraseDevice', 'iOS'); // 8
 * requiredAccessRights('DeviceInformation', 'iOS', { Queries: ['WiFiMAC'] }); // 32
 * ```
 */
export function requiredAccessRights(
  command: CommandDefinition | string,
  os: OsName,
  payload?: Record<string, unknown>,
): number {
  const def = typeof command === 'string' ? getCommand(command) : command;
  if (!def) throw new CommandError('UNKNOWN_COMMAND', `unknown RequestType: ${String(command)}`);
  const name = def.support[os]?.accessRights;
  if (!name) return 0;
  if (name !== SPECIAL_CASE) return accessRightBits(name);
  let bits = 0;
  const values = def.valueAccessRights ?? {};
  const queried = Object.values(payload ?? {}).find(Array.isArray) as unknown[] | undefined;
  const keys = queried ? queried.filter((q): q is string => typeof q === 'string') : Object.keys(values);
  for (const key of keys) {
    const right = values[key]?.[os];
    if (right) bits |= accessRightBits(right);
  }
  return bits;
}

/**
 * True when an enrollment granted `granted` AccessRights can run the command on that OS.
 *
 * @example
 * ```ts
 * hasAccessRights(ALL_ACCESS_RIGHTS, 'DeviceLock', 'macOS'); // true
 * ```
 */
export function hasAccessRights(
  granted: number,
  command: CommandDefinition | string,
  os: OsName,
  payload?: Record<string, unknown>,
): boolean {
  const need = requiredAccessRights(command, os, payload);
  return (granted & need) === need;
}
