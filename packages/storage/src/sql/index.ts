// The adapter-author API: what the SQL adapters share, so each keeps only its dialect.
export type { SqlContext } from './context';
export { coalescedLastSeen } from './last-seen';
export { prepareEnqueue, type PreparedEnqueue } from './enqueue';
export { certificateTaken, exportCursor, exportPage, prepareImport, type PreparedImport } from './transfer';
export { inLane } from './lanes';
export type { SqlOperations, WithContext } from './operations';
export { SqlStorage, type SqlDialect } from './storage';
export { isSafeIdentifier, redactUrl } from './url';
export { bytes, date, optionalDate, optionalText, pageLimit } from './values';
export { type CommandRow, finalStatuses, toQueuedCommand } from './rows';
