/** Where a Mac stands with FileVault enforcement, as shown to an administrator. */
export type DiskEncryptionState =
  /** The profile is sent or installed; FileVault is not on yet (the user has not logged in/out). */
  | 'enforcing'
  /** FileVault is on and the Mac reported an encrypted key that is not stored yet. */
  | 'verifying'
  /** FileVault is on and its current recovery key is escrowed and opens. */
  | 'verified'
  /** FileVault is on but no usable key can be escrowed without the user or an admin (rotate the key). */
  | 'action-required'
  /** The profile was refused, or the reported key could not be decrypted. */
  | 'failed'
  /** Enforcement is being taken off (RemoveProfile sent). */
  | 'removing-enforcement';

/** What the server knows about one Mac; every field comes from the device's own reports. */
export interface DiskEncryptionFacts {
  /**
   * The FileVault profile: `pending` (InstallProfile queued, no answer), `installed` (Acknowledged),
   * `failed` (Error), `removing` (RemoveProfile queued), `absent`.
   */
  profile: 'absent' | 'pending' | 'installed' | 'failed' | 'removing';
  /** `FDE_Enabled` from the latest SecurityInfo; undefined when not reported yet. */
  fdeEnabled?: boolean;
  /** Whether that SecurityInfo carried `FDE_PersonalRecoveryKeyCMS`. */
  keyReported?: boolean;
  /**
   * The escrow of the reported key: `stored` (decrypted and kept), `undecryptable` (refused by
   * {@link escrowFileVaultKey}), `none`.
   */
  escrow: 'none' | 'stored' | 'undecryptable';
}

/**
 * Derives the disk-encryption state of a Mac from what it reported. Pure: the caller gathers the
 * facts from stored results (InstallProfile status, the latest SecurityInfo, the escrow outcome).
 *
 * @example
 * ```ts
 * diskEncryptionState({ profile: 'installed', fdeEnabled: true, keyReported: true, escrow: 'stored' }); // 'verified'
 * diskEncryptionState({ profile: 'installed', fdeEnabled: false, escrow: 'none' }); // 'enforcing'
 * ```
 */
export function diskEncryptionState(facts: DiskEncryptionFacts): DiskEncryptionState | undefined {
  switch (facts.profile) {
    case 'removing':
      return 'removing-enforcement';
    case 'failed':
      return 'failed';
    case 'absent':
      return undefined;
    case 'pending':
      return 'enforcing';
  }
  if (facts.escrow === 'undecryptable') return 'failed';
  if (facts.fdeEnabled !== true) return 'enforcing';
  if (facts.escrow === 'stored') return 'verified';
  // FileVault is on but the key we hold is not the device's: either the device has yet to send it,
  // or (turned on before the profile) it never will until the key is rotated.
  return facts.keyReported ? 'verifying' : 'action-required';
}
