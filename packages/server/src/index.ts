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
export {
  type AcknowledgeWebhookEvent,
  type CheckinWebhookEvent,
  outboxEntry,
  type WebhookEvent,
  webhookEvent,
  type WebhookMessage,
  type WebhookSender,
} from './webhooks/body';
export { signWebhookBody, verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from './webhooks/signature';
export {
  createWebhookWorker,
  retryDelay,
  type WebhookDelivery,
  type WebhookWorker,
  type WebhookWorkerOptions,
} from './webhooks/worker';
export {
  type AdminAuthorizer,
  type AdminDecision,
  type AdminPermission,
  type AdminPrincipal,
  type AdminRouteInfo,
  apiKeyAuthorizer,
  MIN_API_KEY_LENGTH,
  presentedCredential,
  secretsEqual,
} from './admin/auth';
export { type AdminApi, type AdminApiOptions, type AdminStorage, createAdminApi } from './admin/api';
export { type AdminOpenApiOptions, adminOpenApi } from './admin/openapi';
export { ADMIN_API_PREFIX, ADMIN_ROUTES, type AdminOperation, type AdminRoute } from './admin/routes';
export {
  createNanoMdmApi,
  MAX_NANOMDM_IDS,
  NANOMDM_API_USER,
  type NanoMdmApi,
  type NanoMdmApiOptions,
  type NanoMdmApiResult,
  type NanoMdmEnrollmentResult,
} from './nanomdm/api';
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
