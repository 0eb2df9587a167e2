export { isMdmkitError, ServerError, type ServerErrorCode } from './errors';
export type { MdmEvent, MdmEventListener } from './events';
export {
  type AssociateOptions,
  associateCertificate,
  blockList,
  type ChainLink,
  composeChain,
  decodeMessage,
  type DeviceMessage,
  extractIdentity,
  type MdmRequest,
  type MdmService,
  type VerifyChainOptions,
  verifyIdentityChain,
} from './chain';
export { BOOTSTRAP_TOKEN_SECRET_KIND, type CoreOptions, type CoreStorage, createCore } from './core';
export type { EnrollmentProfileConfig } from './enroll';
export { type ApnsPusherOptions, apnsPusher, type PushReport, type Pusher } from './push';
export { createMdmServer, type EnqueueOptions, type MdmServer, type MdmServerOptions } from './server';
export { blockedEnrollments, ENROLLMENT_AUDIT_KIND, SERVER_ACTOR } from './blocking';
export {
  answerDeclarativeCheckin,
  type DeclarationAdmin,
  type DeclarationAdminOptions,
  type DeclarationStores,
  declarationAdmin,
  declarationSetFor,
  latestDdmStatus,
} from './declarations';
export type { LifecycleEvent } from './events';
export {
  acceptRenewedIdentity,
  type IdentityTrustOptions,
  RENEWAL_CN_PREFIX,
  RENEWAL_SECRET_KIND,
  type RenewedIdentityOptions,
  recordIdentityCertificates,
  verifyIdentityTrust,
} from './identity-trust';
export {
  type AdminAction,
  DEFAULT_RENEWAL_GRACE_MS,
  hasLifecycleStores,
  type LifecycleOptions,
  type LifecycleStorage,
  type MdmLifecycle,
} from './lifecycle';
export {
  createMigrationHandler,
  createMigrationImporter,
  exportMigrationCheckins,
  exportNanomdmFileStorage,
  type FileImportReport,
  importNanomdmFileStorage,
  MAX_MIGRATION_BODY_BYTES,
  MIGRATED_CERTIFICATE_HASH_HEADER,
  MIGRATED_CERTIFICATE_HEADER,
  type MigratedIdentity,
  type MigrationCheckins,
  type MigrationHandlerOptions,
  type MigrationImporter,
  type MigrationImporterOptions,
  NANOMDM_FILES,
} from './migration';
export {
  createIdentityRenewal,
  DEFAULT_RENEWAL_WINDOW_DAYS,
  type IdentityRenewal,
  type IdentityRenewalOptions,
  RENEWAL_LEASE,
  type RenewalRun,
} from './renewal';
