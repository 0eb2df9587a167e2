// The adapter-author API: what the SQL adapters share, so each keeps only its dialect.
export type { SqlContext } from './context';
export { coalescedLastSeen } from './last-seen';
export { prepareEnqueue, type PreparedEnqueue } from './enqueue';
export {
  certificateTaken,
  exportCursor,
  exportPage,
  type ExportRow,
  exportWith,
  prepareImport,
  type PreparedImport,
} from './transfer';
export { inLane } from './lanes';
export type { SqlOperations, WithContext } from './operations';
export { SqlStorage, type SqlDialect } from './storage';
export { isSafeIdentifier, redactUrl } from './url';
export { bytes, date, optionalDate, optionalText, pageLimit } from './values';
export {
  type CommandRow,
  type EnrollmentRow,
  enrollmentColumns,
  finalStatuses,
  historyCursor,
  pageOf,
  type ResultRow,
  resultColumns,
  toEnrollment,
  toQueuedCommand,
  toResult,
} from './rows';
export { checkAcquire, checkLease, checkToken, checkTtl, decideAcquire } from './leases';
export { checkPushCert, type PushCertRow, toPushCert } from './push-certs';
export { type IssuedRow, issuedValues, serialTaken, toIssued } from './scep';
export { checkTokenUpdate } from './check-in';
export { bindStores, type SqlStoreOperations, type SqlStores } from './store-operations';
export { type FeatureMigrations, type SqlFeature, withFeatureMigrations } from './features';
// DEP tokens, devices and profile assignments: row shapes, checks and page plans. Listed by name, so
// a helper added to the module stays internal until it is meant to be published.
export {
  asDate,
  awaitingLimit,
  checkDepAssignment,
  checkDepPage,
  checkDepToken,
  checkFence,
  depDeviceColumns,
  depDeviceFilter,
  depDevicePage,
  type DepDeviceRow,
  depDeviceValues,
  type DepPagePlan,
  depStatusChanges,
  depTokenColumns,
  depTokenNotFound,
  type DepTokenRow,
  depTokenValues,
  pageSerials,
  planDepPage,
  toDepAssignment,
  toDepCursor,
  toDepDevice,
  toDepToken,
} from './dep';
// Secrets and audit events: row shapes, checks and pages.
export {
  auditColumns,
  auditId,
  auditListQuery,
  auditPage,
  type AuditRow,
  checkAuditEvent,
  checkExpectedVersion,
  checkPutSecret,
  checkSecretKey,
  secretColumns,
  secretConflict,
  secretListQuery,
  secretPage,
  type SecretRow,
  toAuditEvent,
  toSecret,
} from './secrets';
export { outboxColumns, type OutboxRow, toOutboxEvent } from './outbox';
export { type OutboxStatements, outboxStoreOf } from './outbox-store';
export { migrated, sqlContext } from './open';
export { featureMigrationsOf } from './feature-list';
export { depCursorOf } from './dep-cursor';
export { issuedColumns, issuedLookups } from './scep-lookups';
export {
  type CheckedAuthenticate,
  type CheckedTokenUpdate,
  type CheckedUserAuthenticate,
  type CheckedUserFields,
  checkAuthenticate,
  checkBootstrapToken,
  checkCertificateAssociation,
  checkTokenUpdateInput,
  checkUserAuthenticate,
  certificateLookups,
  enrollmentNotFound,
  tokenUpdateValues,
} from './check-in-input';
export { type JobStateRow, type LeaseRow, type LeaseStatements, leaseStoreOf } from './lease-store';
export { type EnrollmentFilterSql, listEnrollmentsWith, type PushInfoRow, pushInfoOf } from './queries';
export {
  type CheckedCommandReport,
  historyPage,
  type QueueEntryRow,
  recordReport,
  type ReportStatements,
  reportOutcome,
  resultsOf,
  toQueueEntry,
  withNext,
} from './report';
// Declaration sets, DDM status, identity certificates and blocks: checks, row shapes and pages. The
// limits (MAX_*) are published from the root entry only.
export {
  type BlockRow,
  blockColumns,
  checkAssignment,
  checkBlock,
  checkCertHash,
  checkDdmStatus,
  checkDeclarationSet,
  checkIdentityCertificate,
  checkRetire,
  type DdmStatusRow,
  ddmStatusColumns,
  ddmStatusPage,
  type DeclarationSetRow,
  declarationSetColumns,
  type IdentityCertificateRow,
  identityCertificateColumns,
  keyedPage,
  statusCursor,
  toBlock,
  toDeclarationSet,
  toIdentityCertificate,
  trimDdmStatusSql,
} from '../lifecycle-checks';
