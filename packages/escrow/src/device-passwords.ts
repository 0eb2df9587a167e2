import {
  type Command,
  type SetFirmwarePasswordPayload,
  type SetRecoveryLockPayload,
  setFirmwarePasswordCommand,
  setRecoveryLockCommand,
  type VerifyFirmwarePasswordPayload,
  type VerifyRecoveryLockPayload,
  verifyFirmwarePasswordCommand,
  verifyRecoveryLockCommand,
} from '@mdmkit/commands';
import { EscrowError } from './errors';
import { SecretKind } from './kinds';
import { generatePassword, type PasswordOptions } from './passwords';
import type { SecretVault } from './vault';

/** Which pre-boot password: Recovery Lock (Apple silicon) or the firmware password (Intel). */
export type PreBootPassword = 'recovery-lock' | 'firmware';

const KINDS = {
  'recovery-lock': {
    current: SecretKind.recoveryLockPassword,
    pending: SecretKind.pendingRecoveryLockPassword,
  },
  firmware: { current: SecretKind.firmwarePassword, pending: SecretKind.pendingFirmwarePassword },
} as const;

/** The kinds of one pre-boot password, checked: `which` comes from the caller. */
function kindsOf(which: PreBootPassword): (typeof KINDS)[PreBootPassword] {
  if (typeof which !== 'string' || !Object.hasOwn(KINDS, which)) {
    throw new EscrowError('INVALID_INPUT', 'which must be "recovery-lock" or "firmware"');
  }
  return KINDS[which];
}

/**
 * The row of a password sent in one Set command and not yet answered. One row per command, so that
 * the Mac's answer to one command never promotes the password of another queued beside it.
 */
function pendingKind(which: PreBootPassword, commandUuid: unknown): string {
  if (typeof commandUuid !== 'string' || commandUuid.trim() === '') {
    throw new EscrowError('INVALID_INPUT', 'commandUuid must be the CommandUUID of the Set command');
  }
  return `${kindsOf(which).pending}:${commandUuid}`;
}

/** The actor recorded when this package reads a password to move it from pending to current. */
export const ESCROW_SYSTEM_ACTOR = 'mdmkit:escrow';

type SetCommand<P extends PreBootPassword> = P extends 'recovery-lock'
  ? Command<'SetRecoveryLock', SetRecoveryLockPayload>
  : Command<'SetFirmwarePassword', SetFirmwarePasswordPayload>;
type VerifyCommand<P extends PreBootPassword> = P extends 'recovery-lock'
  ? Command<'VerifyRecoveryLock', VerifyRecoveryLockPayload>
  : Command<'VerifyFirmwarePassword', VerifyFirmwarePasswordPayload>;

/** Options of {@link setPreBootPasswordCommand}. */
export interface SetPreBootPasswordOptions<P extends PreBootPassword> {
  vault: SecretVault;
  udid: string;
  which: P;
  /** Who asks for the change; the current password is read under this actor (an audit event). */
  actor: string;
  reason: string;
  /** The new password; default one from {@link generatePassword} with `generate`. */
  newPassword?: string;
  generate?: PasswordOptions;
}

/**
 * Builds `SetRecoveryLock` or `SetFirmwarePassword` with a new password (generated unless given) and
 * the escrowed current one, and keeps the new one sealed as *pending* until the Mac acknowledges
 * (then call {@link confirmPreBootPassword}); the acknowledged password stays stored meanwhile, so a
 * refused change loses nothing.
 *
 * @example
 * ```ts
 * const command = await setPreBootPasswordCommand({ vault, udid, which: 'recovery-lock', actor: 'alice', reason: 'enrolment policy' });
 * ```
 */
export async function setPreBootPasswordCommand<P extends PreBootPassword>(
  options: SetPreBootPasswordOptions<P>,
): Promise<SetCommand<P>> {
  const { vault, udid, which } = options;
  const kinds = kindsOf(which);
  const newPassword = options.newPassword ?? generatePassword(options.generate);
  const current = (await vault.has(udid, kinds.current))
    ? (await vault.read({ owner: udid, kind: kinds.current, actor: options.actor, reason: options.reason }))
        .text
    : undefined;
  const payload = { NewPassword: newPassword, ...(current !== undefined && { CurrentPassword: current }) };
  // Build first: a password the schema refuses is never stored.
  const command =
    which === 'recovery-lock'
      ? setRecoveryLockCommand(payload, { platform: { os: 'macOS' } })
      : setFirmwarePasswordCommand(payload, { platform: { os: 'macOS' } });
  await vault.put(udid, pendingKind(which, command.CommandUUID), newPassword);
  return command as SetCommand<P>;
}

/**
 * Records the Mac's answer to one Set command (named by its `CommandUUID`): on `Acknowledged` the
 * password that command carried becomes the current one; otherwise it is dropped and the current one
 * stays. An answer to a command with nothing pending (already answered) changes nothing.
 *
 * @throws EscrowError `INVALID_INPUT` without the command's UUID.
 * @example
 * ```ts
 * await confirmPreBootPassword({ vault, udid, which: 'recovery-lock', commandUuid: report.envelope.CommandUUID, acknowledged: report.envelope.Status === 'Acknowledged' });
 * ```
 */
export async function confirmPreBootPassword(options: {
  vault: SecretVault;
  udid: string;
  which: PreBootPassword;
  /** The `CommandUUID` of the Set command this answer is for. */
  commandUuid: string;
  acknowledged: boolean;
}): Promise<void> {
  const { vault, udid } = options;
  const kinds = kindsOf(options.which);
  const pendingRow = pendingKind(options.which, options.commandUuid);
  if (!(await vault.has(udid, pendingRow))) return;
  if (options.acknowledged) {
    const pending = await vault.read({
      owner: udid,
      kind: pendingRow,
      actor: ESCROW_SYSTEM_ACTOR,
      reason: 'the Mac acknowledged the new password',
    });
    await vault.put(udid, kinds.current, pending.value);
  }
  await vault.delete(udid, pendingRow);
}

/**
 * Builds `VerifyRecoveryLock` or `VerifyFirmwarePassword` with the escrowed password, read under
 * `actor` (an audit event).
 *
 * @example
 * ```ts
 * const command = await verifyPreBootPasswordCommand({ vault, udid, which: 'firmware', actor: 'audit-job', reason: 'weekly check' });
 * ```
 */
export async function verifyPreBootPasswordCommand<P extends PreBootPassword>(options: {
  vault: SecretVault;
  udid: string;
  which: P;
  actor: string;
  reason: string;
}): Promise<VerifyCommand<P>> {
  const kinds = kindsOf(options.which);
  const { text } = await options.vault.read({
    owner: options.udid,
    kind: kinds.current,
    actor: options.actor,
    reason: options.reason,
  });
  const command =
    options.which === 'recovery-lock'
      ? verifyRecoveryLockCommand({ Password: text }, { platform: { os: 'macOS' } })
      : verifyFirmwarePasswordCommand({ Password: text }, { platform: { os: 'macOS' } });
  return command as VerifyCommand<P>;
}
