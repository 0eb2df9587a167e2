export { StorageError, isMdmkitError, isStorageError, type StorageErrorCode } from './errors';
export type {
  AuthenticateInput,
  BootstrapTokenStore,
  CertificateAssociationStore,
  ChannelType,
  CheckInStore,
  EnrollmentExport,
  EnrollmentId,
  EnrollmentLookup,
  EnrollmentRecord,
  EnrollmentStore,
  EnrollmentTransfer,
  Page,
  PageOptions,
  TokenUpdateInput,
  UserAuthenticateInput,
} from './enrollment';
export type {
  CommandDelivery,
  CommandEnqueuer,
  CommandInput,
  CommandQueue,
  CommandReport,
  CommandResult,
  CommandResults,
  FinalStatus,
  NextCommandOptions,
  QueueAdmin,
  QueueEntry,
  QueuedCommand,
  RecordOutcome,
  RecordResultResponse,
  ReportStatus,
} from './queue';
export type { EnrollmentFilter, EnrollmentQueries, PushInfo } from './queries';
export type {
  IssuedCertificateRecord,
  IssuedCertificateStore,
  ScepChallengeStore,
  ScepNonceStore,
  ScepStore,
} from './scep';
export type { PushCertStore, StoredPushCert } from './push-cert';
export type { FencedJobState, JobLeases, JobState, Lease, LeaseStore } from './lease';
export {
  runMigrations,
  validateMigrations,
  type AppliedMigration,
  type Migration,
  type MigrationDriver,
  type MigrationReport,
} from './migrations';
export {
  DEFAULT_STORAGE_LIMITS,
  checkBytes,
  checkKey,
  resolveLimits,
  type StorageLimits,
} from './limits';
export { withRetry, type RetryOptions } from './retry';
export {
  DEFAULT_LAST_SEEN_INTERVAL_MS,
  resolveLastSeenInterval,
  type Closable,
  type CommonStorageOptions,
  type MdmStorage,
  type SchemaMigrator,
  type StorageLifecycle,
} from './storage';
export { MemoryStorage, type MemoryStorageOptions } from './memory';
export { SenderNonceBudget, senderNoncesFull } from './nonce-budget';
export {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  checkCommand,
  checkDate,
  checkPriority,
  checkReport,
  pageSize,
} from './validate';
export {
  type DepAssignmentRecord,
  type DepCursorRecord,
  type DepDeviceFilter,
  type DepDeviceInput,
  type DepDeviceRecord,
  type DepOpType,
  type DepPageInput,
  type DepPageResult,
  type DepStore,
  type DepTokenRecord,
  isDepStore,
} from './dep';
export { MemoryDepStore } from './memory-dep';
export type { ListSecretsOptions, PutSecretInput, SecretRecord, SecretStore } from './secrets';
export type { AuditEvent, AuditEventInput, AuditEventStore, ListAuditEventsOptions } from './audit';
export { MemorySecretData, MemorySecretStore } from './memory-secrets';
export {
  checkClaim,
  checkConfirm,
  checkOutboxEvents,
  checkReschedule,
  type CheckedOutboxEvent,
  type ClaimOutboxOptions,
  isOutboxStore,
  MAX_OUTBOX_BATCH,
  MAX_OUTBOX_ERROR,
  type OutboxEvent,
  type OutboxEventInput,
  type OutboxStore,
  type OutboxWrite,
} from './outbox';
export { MemoryOutboxData, MemoryOutboxStore } from './memory-outbox';
export type {
  DdmStatusRecord,
  DdmStatusStore,
  DeclarationAssignmentStore,
  DeclarationSetRecord,
  DeclarationSetStore,
  EnrollmentBlockRecord,
  EnrollmentBlockStore,
  IdentityCertificateRecord,
  IdentityCertificateStore,
  IdentityTrust,
  LifecycleStores,
} from './lifecycle';
export { MemoryLifecycleData, MemoryLifecycleStore } from './memory-lifecycle';
export { MAX_ASSIGN_IDS, MAX_DDM_DOCUMENT_BYTES } from './lifecycle-checks';
