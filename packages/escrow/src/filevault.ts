import {
  type Command,
  type RotateFileVaultKeyPayload,
  type RotateFileVaultKeyResponse,
  rotateFileVaultKeyCommand,
  type SecurityInfoResponse,
} from '@mdmkit/commands';
import { decryptRecoveryKey } from './cms';
import { EscrowError } from './errors';
import type { EscrowKeyring } from './escrow-keyring';
import { SecretKind } from './kinds';
import type { SecretVault } from './vault';

/** What {@link escrowFileVaultKey} found in a SecurityInfo response. */
export type FileVaultEscrowOutcome =
  /** The key was decrypted and stored. */
  | { status: 'escrowed'; version: number; certificateSerial: string; deviceKey?: string }
  /** FileVault is off: nothing to escrow. */
  | { status: 'fde-disabled' }
  /** FileVault is on but the Mac sent no encrypted key (profile missing, or the key was not made by it). */
  | { status: 'no-key-reported' };

/** The part of a SecurityInfo response this package reads; a typed response or the raw dictionary fits. */
export type SecurityInfoFacts = {
  SecurityInfo?: Partial<SecurityInfoResponse['SecurityInfo']> | Record<string, unknown>;
};

function securityFields(response: SecurityInfoFacts): {
  enabled?: boolean;
  cms?: Uint8Array;
  deviceKey?: string;
} {
  const info = response?.SecurityInfo as Record<string, unknown> | undefined;
  if (typeof info !== 'object' || info === null) {
    throw new EscrowError('INVALID_RESPONSE', 'the SecurityInfo response has no SecurityInfo dictionary');
  }
  const out: { enabled?: boolean; cms?: Uint8Array; deviceKey?: string } = {};
  if (typeof info.FDE_Enabled === 'boolean') out.enabled = info.FDE_Enabled;
  if (info.FDE_PersonalRecoveryKeyCMS instanceof Uint8Array) out.cms = info.FDE_PersonalRecoveryKeyCMS;
  else if (info.FDE_PersonalRecoveryKeyCMS !== undefined) {
    throw new EscrowError('INVALID_RESPONSE', 'FDE_PersonalRecoveryKeyCMS is not data');
  }
  if (typeof info.FDE_PersonalRecoveryKeyDeviceKey === 'string')
    out.deviceKey = info.FDE_PersonalRecoveryKeyDeviceKey;
  return out;
}

/**
 * Collects a Mac's FileVault personal recovery key from its `SecurityInfo` response: decrypts
 * `FDE_PersonalRecoveryKeyCMS` with the matching escrow key (current or earlier certificate) and stores
 * it sealed. On any failure nothing is stored and the key already escrowed stays.
 *
 * @throws EscrowError `NO_ESCROW_KEY` (encrypted for a certificate we do not hold), `DECRYPT_FAILED`
 * (tampered or damaged), `INVALID_RESPONSE`.
 * @example
 * ```ts
 * const report = decodeReportFor('SecurityInfo', body);
 * if (report.response) await escrowFileVaultKey({ vault, keyring, udid, response: report.response });
 * ```
 */
export async function escrowFileVaultKey(options: {
  vault: SecretVault;
  keyring: EscrowKeyring;
  udid: string;
  response: SecurityInfoFacts;
}): Promise<FileVaultEscrowOutcome> {
  const f = securityFields(options.response);
  if (!f.cms) return f.enabled === false ? { status: 'fde-disabled' } : { status: 'no-key-reported' };
  const { recoveryKey, certificate } = await decryptRecoveryKey(options.keyring, f.cms);
  const { version } = await options.vault.put(options.udid, SecretKind.fileVaultRecoveryKey, recoveryKey);
  return {
    status: 'escrowed',
    version,
    certificateSerial: certificate.serialNumber,
    ...(f.deviceKey !== undefined && { deviceKey: f.deviceKey }),
  };
}

/**
 * Builds `RotateFileVaultKey` for a Mac whose personal recovery key is escrowed: the current key
 * unlocks FileVault (read through the vault, so the read is an audit event under `actor`), and the
 * new key comes back encrypted to the current escrow certificate.
 *
 * @example
 * ```ts
 * const command = await fileVaultRotationCommand({ vault, keyring, udid, actor: 'rotation-job', reason: 'key was viewed' });
 * ```
 */
export async function fileVaultRotationCommand(options: {
  vault: SecretVault;
  keyring: EscrowKeyring;
  udid: string;
  actor: string;
  reason: string;
}): Promise<Command<'RotateFileVaultKey', RotateFileVaultKeyPayload>> {
  const current = await options.vault.read({
    owner: options.udid,
    kind: SecretKind.fileVaultRecoveryKey,
    actor: options.actor,
    reason: options.reason,
  });
  const { certificate } = await options.keyring.current();
  return rotateFileVaultKeyCommand(
    {
      KeyType: 'personal',
      FileVaultUnlock: { Password: current.text },
      ReplyEncryptionCertificate: certificate.der,
    },
    { platform: { os: 'macOS' } },
  );
}

/**
 * Escrows the new key from a `RotateFileVaultKey` response (`RotateResult.EncryptedNewRecoveryKey`).
 * On any failure the old key stays stored.
 *
 * @example
 * ```ts
 * const report = decodeReportFor('RotateFileVaultKey', body);
 * if (report.response) await escrowRotatedFileVaultKey({ vault, keyring, udid, response: report.response });
 * ```
 */
export async function escrowRotatedFileVaultKey(options: {
  vault: SecretVault;
  keyring: EscrowKeyring;
  udid: string;
  response: RotateFileVaultKeyResponse;
}): Promise<{ version: number; certificateSerial: string }> {
  const cms = options.response?.RotateResult?.EncryptedNewRecoveryKey;
  if (!(cms instanceof Uint8Array)) {
    throw new EscrowError(
      'INVALID_RESPONSE',
      'the RotateFileVaultKey response has no EncryptedNewRecoveryKey',
    );
  }
  const { recoveryKey, certificate } = await decryptRecoveryKey(options.keyring, cms);
  const { version } = await options.vault.put(options.udid, SecretKind.fileVaultRecoveryKey, recoveryKey);
  return { version, certificateSerial: certificate.serialNumber };
}
