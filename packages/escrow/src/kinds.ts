/**
 * The kinds of secret this package keeps, one row per device and kind. The kind is bound into each
 * sealed blob, so a value stored as one kind never opens as another.
 */
export const SecretKind = {
  /** A FileVault personal recovery key, as the Mac reported it. */
  fileVaultRecoveryKey: 'filevault-prk',
  /** An Activation Lock bypass code, human-readable form. */
  activationLockBypassCode: 'activation-lock-bypass-code',
  /** The bootstrap token a Mac escrowed with SetBootstrapToken. */
  bootstrapToken: 'bootstrap-token',
  /** The Recovery Lock password the Mac acknowledged. */
  recoveryLockPassword: 'recovery-lock-password',
  /** A Recovery Lock password sent but not yet acknowledged; the row's kind adds `:<CommandUUID>`. */
  pendingRecoveryLockPassword: 'recovery-lock-password-pending',
  /** The firmware password the Mac acknowledged. */
  firmwarePassword: 'firmware-password',
  /** A firmware password sent but not yet acknowledged; the row's kind adds `:<CommandUUID>`. */
  pendingFirmwarePassword: 'firmware-password-pending',
  /** The password of the managed local administrator account. */
  localAdminPassword: 'local-admin-password',
} as const;

/** One of {@link SecretKind}'s values, or an application's own kind. */
export type SecretKindName = (typeof SecretKind)[keyof typeof SecretKind] | (string & {});
