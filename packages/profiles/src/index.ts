export * from './generated/index';
export { definePayload, type Payload, type PayloadDefinition, type PayloadOptions } from './define';
export { isMdmkitError, ProfileError, type ProfileErrorCode, type ProfileIssue } from './errors';
export type { OsName, OsSupport, Support, SupportMode } from '@mdmkit/protocol';
export { newUuid, stableUuid } from './identifiers';
export {
  buildPayload,
  getPayloadDefinition,
  isKnownPayloadType,
  listPayloadTypes,
  type PayloadContentOf,
  rawPayload,
} from './lookup';
export { buildProfile, payloadDict, type ProfileDict, type ProfileOptions } from './profile';
export { encodeProfile } from './encode';
export {
  defaultProfileLimits,
  MAX_PAYLOADS,
  type ParsedPayload,
  type ParsedProfile,
  parseProfile,
  readProfileDict,
  typedPayload,
} from './parse';
export {
  isPlainProfile,
  type ReadProfile,
  readProfile,
  type ReadSignedProfile,
  readSignedProfile,
  type SignProfileOptions,
  signProfile,
  type VerifiedProfile,
  type VerifyProfileOptions,
  verifySignedProfile,
} from './sign';
export { decryptProfile, type EncryptProfileOptions, encryptProfile } from './encrypt';
export {
  buildEnrollmentProfile,
  type EnrollmentAcme,
  type EnrollmentProfileOptions,
  type EnrollmentScep,
  type SubjectInput,
} from './enrollment';
export {
  type DomainPreferences,
  domainPreferencesPayload,
  managedPreferencesPayload,
} from './managed-preferences';
export {
  NUDGE_DOMAIN,
  type NudgeConfiguration,
  type NudgeOptions,
  type NudgeReminder,
  type NudgeUserExperience,
  nudgeConfiguration,
  nudgeJson,
  nudgePayload,
  nudgeReminderAt,
} from './nudge';
