export { EscrowError, type EscrowErrorCode, isMdmkitError } from './errors';
export { type EscrowLogger, type LogFields, silentLogger } from './logger';
export { SecretKind, type SecretKindName } from './kinds';
export {
  createSecretVault,
  type RewrapReport,
  type SecretReading,
  type SecretReadRequest,
  type SecretVault,
  type SecretVaultOptions,
} from './vault';
export {
  createEscrowKeyring,
  ESCROW_IDENTITY_OWNER,
  type EscrowCertificate,
  type EscrowKeyring,
  type EscrowKeyringOptions,
} from './escrow-keyring';
export { fileVaultProfile, type FileVaultProfileOptions } from './filevault-profile';
export { MAX_ESCROW_CMS_BYTES } from './cms';
export {
  escrowFileVaultKey,
  escrowRotatedFileVaultKey,
  type FileVaultEscrowOutcome,
  fileVaultRotationCommand,
  type SecurityInfoFacts,
} from './filevault';
export {
  type DiskEncryptionFacts,
  type DiskEncryptionState,
  diskEncryptionState,
} from './disk-encryption-state';
export {
  BYPASS_CODE_ALPHABET,
  type BypassCode,
  bypassCodeHash,
  createBypassCode,
  formatBypassCode,
  parseBypassCode,
  verifyBypassCode,
} from './bypass-code';
export { escrowBypassCodeResponse, storeBypassCode } from './activation-lock';
export { DEFAULT_PASSWORD_ALPHABET, generatePassword, type PasswordOptions } from './passwords';
export {
  confirmPreBootPassword,
  ESCROW_SYSTEM_ACTOR,
  type PreBootPassword,
  type SetPreBootPasswordOptions,
  setPreBootPasswordCommand,
  verifyPreBootPasswordCommand,
} from './device-passwords';
export { bootstrapTokenForDevice, storeBootstrapToken } from './bootstrap-token';
