import { StorageError } from './errors';
import type { PageOptions } from './enrollment';
import type { CommandInput, CommandReport, ReportStatus } from './queue';
import { checkBytes, checkKey, type StorageLimits } from './limits';

/** Default and maximum page sizes for paged calls. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** Clamps a requested page size into 1..MAX_PAGE_SIZE. */
export function pageSize(options?: PageOptions): number {
  const n = options?.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isFinite(n)) return DEFAULT_PAGE_SIZE;
  return Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(n)));
}

/** Throws INVALID_INPUT unless `d` is a valid Date (or undefined when optional). */
export function checkDate(what: string, d: unknown, optional = false): void {
  if (d === undefined && optional) return;
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw new StorageError('INVALID_INPUT', `${what} must be a valid Date`);
  }
}

/** Priorities fit a 32-bit signed column in every database. */
export function checkPriority(p: unknown): number {
  const v = p ?? 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1) {
    throw new StorageError('INVALID_INPUT', 'priority must be a 32-bit integer');
  }
  return v;
}

/**
 * Validates a command and returns its de-duplicated target ids. Shared by all adapters so they
 * reject the same input with the same codes.
 *
 * @example
 * ```ts
 * const ids = checkCommand(command, enrollmentIds, limits); // throws StorageError INVALID_INPUT / PAYLOAD_TOO_LARGE
 * ```
 */
export function checkCommand(command: CommandInput, ids: readonly string[], limits: StorageLimits): string[] {
  if (typeof command !== 'object' || command === null) {
    throw new StorageError('INVALID_INPUT', 'command must be an object');
  }
  checkKey('command uuid', command.uuid, limits.maxKeyLength);
  checkKey('requestType', command.requestType, limits.maxKeyLength);
  if (!(command.payload instanceof Uint8Array)) {
    throw new StorageError('INVALID_INPUT', 'command payload must be a Uint8Array');
  }
  checkBytes('command payload', command.payload, limits.maxCommandBytes);
  checkPriority(command.priority);
  checkDate('notBefore', command.notBefore, true);
  checkDate('expiresAt', command.expiresAt, true);
  if (!Array.isArray(ids)) throw new StorageError('INVALID_INPUT', 'enrollment ids must be an array');
  const unique = [...new Set(ids)];
  for (const id of unique) checkKey('enrollment id', id, limits.maxKeyLength);
  return unique;
}

const statuses: ReadonlySet<ReportStatus> = new Set([
  'Acknowledged',
  'Error',
  'CommandFormatError',
  'NotNow',
  'Idle',
]);

/** Validates a report; returns the command UUID (undefined only for Idle). Shared by all adapters. */
export function checkReport(report: CommandReport, limits: StorageLimits): string | undefined {
  if (typeof report !== 'object' || report === null) {
    throw new StorageError('INVALID_INPUT', 'report must be an object');
  }
  checkKey('enrollment id', report.enrollmentId, limits.maxKeyLength);
  if (!statuses.has(report.status)) {
    throw new StorageError('INVALID_INPUT', `unknown report status ${String(report.status)}`);
  }
  checkBytes('report payload', report.payload, limits.maxResultBytes);
  if (report.status === 'Idle') return undefined;
  checkKey('command uuid', report.commandUuid, limits.maxKeyLength);
  return report.commandUuid;
}
