export { StorageError, isMdmkitError, isStorageError, type StorageErrorCode } from './errors';
export type {
  AuthenticateInput,
  ChannelType,
  EnrollmentExport,
  EnrollmentId,
  EnrollmentRecord,
  EnrollmentStore,
  Page,
  PageOptions,
  TokenUpdateInput,
  UserAuthenticateInput,
} from './enrollment';
export type {
  CommandInput,
  CommandQueue,
  CommandReport,
  CommandResult,
  FinalStatus,
  NextCommandOptions,
  QueueEntry,
  QueuedCommand,
  RecordOutcome,
  RecordResultResponse,
  ReportStatus,
} from './queue';
export type { EnrollmentFilter, EnrollmentQueries, PushInfo } from './queries';
export type { IssuedCertificateRecord, ScepStore } from './scep';
export type { PushCertStore, StoredPushCert } from './push-cert';
export type { JobState, Lease, LeaseStore } from './lease';
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
  type CommonStorageOptions,
  type MdmStorage,
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
