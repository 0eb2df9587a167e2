import type { CommandDefinition } from './define';
import { getCommand } from './lookup';
import type { OsName } from './support';
import { compareVersions } from './versions';

/** Where a command would run. Unset booleans count as `false`. */
export interface AvailabilityContext {
  os: OsName;
  /** OS version, e.g. `'14.2.1'`; omitted = assume the newest. */
  version?: string;
  supervised?: boolean;
  /** MDM channel the command goes to; default `device`. */
  channel?: 'device' | 'user';
  /** The enrollment is a User Enrollment (BYOD). */
  userEnrollment?: boolean;
  /** The device is a Shared iPad. */
  sharedIpad?: boolean;
  /** The device was enrolled through Automated Device Enrollment. */
  dep?: boolean;
  /** The enrollment is user-approved (macOS). */
  userApprovedMdm?: boolean;
}

/** Why a command is not available, or `available: true`. */
export type Availability =
  | { available: true }
  | {
      available: false;
      reason:
        | 'unknown-command'
        | 'os'
        | 'too-old'
        | 'removed'
        | 'supervised'
        | 'channel'
        | 'user-enrollment'
        | 'shared-ipad'
        | 'dep'
        | 'user-approved';
    };

/**
 * Whether a command can run in a context, with the reason when not. Follows the schema facts:
 * OS and version range, supervision, device/user channel (Shared iPad user channels included),
 * User Enrollment and Shared iPad modes, Automated Device Enrollment and user approval.
 *
 * @example
 * ```ts
 * availability('DeviceLock', { os: 'macOS', channel: 'user' }); // { available: false, reason: 'channel' }
 * ```
 */
export function availability(command: CommandDefinition | string, ctx: AvailabilityContext): Availability {
  const def = typeof command === 'string' ? getCommand(command) : command;
  if (!def) return { available: false, reason: 'unknown-command' };
  const s = def.support[ctx.os];
  if (!s?.introduced || s.introduced === 'n/a') return { available: false, reason: 'os' };
  if (ctx.version !== undefined) {
    if (compareVersions(ctx.version, s.introduced) < 0) return { available: false, reason: 'too-old' };
    if (s.removed && compareVersions(ctx.version, s.removed) >= 0)
      return { available: false, reason: 'removed' };
  }
  if (s.supervised && !ctx.supervised) return { available: false, reason: 'supervised' };
  if (s.requiresDep && !ctx.dep) return { available: false, reason: 'dep' };
  if (s.userApprovedMdm && !ctx.userApprovedMdm) return { available: false, reason: 'user-approved' };
  const channel = ctx.channel ?? 'device';
  if (ctx.sharedIpad && s.sharedIpad) {
    const mode = s.sharedIpad.mode;
    if (mode === 'forbidden') return { available: false, reason: 'shared-ipad' };
    const ok =
      channel === 'device' ? s.sharedIpad.deviceChannel !== false : s.sharedIpad.userChannel === true;
    if (!ok) return { available: false, reason: 'channel' };
  } else {
    if (ctx.sharedIpad === false && s.sharedIpad?.mode === 'required') {
      return { available: false, reason: 'shared-ipad' };
    }
    // Unstated channel facts: every command reaches the device channel; only macOS (and Shared
    // iPad, handled above) has a user channel, and commands name it explicitly.
    const ok = channel === 'device' ? s.deviceChannel !== false : s.userChannel === true;
    if (!ok) return { available: false, reason: 'channel' };
  }
  const ue = s.userEnrollment?.mode;
  if (ctx.userEnrollment && ue === 'forbidden') return { available: false, reason: 'user-enrollment' };
  if (!ctx.userEnrollment && ue === 'required') return { available: false, reason: 'user-enrollment' };
  return { available: true };
}

/**
 * True when the command can run in the context (see {@link availability} for the reason).
 *
 * @example
 * ```ts
 * isAvailable('EraseDevice', { os: 'iOS', version: '17.4', supervised: true, channel: 'device' }); // true
 * isAvailable('SetRecoveryLock', { os: 'iOS' }); // false
 * ```
 */
export function isAvailable(command: CommandDefinition | string, ctx: AvailabilityContext): boolean {
  return availability(command, ctx).available;
}
