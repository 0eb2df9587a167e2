// The queue decisions every SQL dialect shares: which report is valid and what it asks for, the
// outcome a write's counts mean, the Idle path, the history page and the queue-entry mapping. A
// dialect hands in only its statements (the record-and-pick write above all).
import type { Page, PageOptions } from '../enrollment';
import { checkBytes, checkKey } from '../limits';
import { StorageError } from '../errors';
import type { StorageLimits } from '../limits';
import { type CheckedOutboxEvent, checkOutboxEvents } from '../outbox';
import type {
  CommandReport,
  CommandResult,
  FinalStatus,
  QueuedCommand,
  QueueEntry,
  RecordResultResponse,
} from '../queue';
import { inLane } from './lanes';
import {
  type CommandRow,
  finalStatuses,
  historyCursor,
  pageOf,
  type ResultRow,
  toQueuedCommand,
  toResult,
} from './rows';
import { date, pageLimit } from './values';

/** A report for a command (NotNow or a final status) after {@link checkReport}. */
export interface CheckedCommandReport {
  readonly id: string;
  readonly uuid: string;
  readonly status: 'NotNow' | FinalStatus;
  /** The result payload; empty when the report carried none. */
  readonly payload: Uint8Array;
  readonly now: Date;
  /** Outbox events to commit with the result. */
  readonly events: readonly CheckedOutboxEvent[];
}

/** What a dialect runs for {@link recordReport}. */
export interface ReportStatements {
  /** The lane key of an enrollment (unique per database, see `inLane`). */
  lane(id: string): string;
  /** Stores the events of an Idle report (they have no write to commit with). */
  storeEvents(events: readonly CheckedOutboxEvent[]): Promise<void>;
  /** Picks the next command for an Idle report. */
  pick(id: string, now: Date): Promise<QueuedCommand | undefined>;
  /** Records a command report and picks the next command, in one transaction. */
  record(report: CheckedCommandReport): Promise<RecordResultResponse>;
}

/**
 * Checks a report and runs it on a dialect's statements, inside the enrollment's lane: an Idle
 * picks only, any other status records then picks.
 *
 * @example
 * ```ts
 * return recordReport(ctx.limits, report, options, { lane, storeEvents, pick, record });
 * ```
 */
export async function recordReport(
  limits: StorageLimits,
  report: CommandReport,
  options: { now?: Date },
  statements: ReportStatements,
): Promise<RecordResultResponse> {
  if (typeof report !== 'object' || report === null)
    throw new StorageError('INVALID_INPUT', 'report must be an object');
  checkKey('enrollment id', report.enrollmentId, limits.maxKeyLength);
  const now = options.now === undefined ? new Date() : date('now', options.now);
  const { status, enrollmentId: id } = report;
  const events = checkOutboxEvents(limits, report.outbox);
  if (status === 'Idle') {
    checkBytes('report payload', report.payload, limits.maxResultBytes);
    // An Idle changes nothing, so its events have nothing to commit with.
    if (events.length > 0) await statements.storeEvents(events);
    const next = await inLane(statements.lane(id), () => statements.pick(id, now));
    return withNext('idle', next);
  }
  if (status !== 'NotNow' && !finalStatuses.has(status)) {
    throw new StorageError('INVALID_INPUT', `unknown report status ${String(status)}`);
  }
  checkKey('command uuid', report.commandUuid, limits.maxKeyLength);
  if (report.payload !== undefined && !(report.payload instanceof Uint8Array)) {
    throw new StorageError('INVALID_INPUT', 'report payload must be a Uint8Array');
  }
  checkBytes('report payload', report.payload, limits.maxResultBytes);
  const checked: CheckedCommandReport = {
    id,
    uuid: report.commandUuid,
    status,
    payload: report.payload ?? new Uint8Array(0),
    now,
    events,
  };
  return inLane(statements.lane(id), () => statements.record(checked));
}

/**
 * The outcome of a record-and-pick write from its counts: rows it finished or NotNow'd, and whether
 * a result for the command was already stored.
 */
export function reportOutcome(changed: number, existed: boolean | number): RecordResultResponse['outcome'] {
  if (changed > 0) return 'stored';
  return Number(existed) > 0 ? 'duplicate' : 'unknown';
}

/** A response with `next` only when there is one. */
export function withNext(
  outcome: RecordResultResponse['outcome'],
  next: QueuedCommand | undefined,
): RecordResultResponse {
  return next ? { outcome, next } : { outcome };
}

/** A queue row joined with its command, as the queue listing reads it. */
export type QueueEntryRow = CommandRow & {
  last_status: string | null;
  not_now_count: number | string;
  last_status_at: Date | null;
};

/** Maps a queue listing row of enrollment `id` to a {@link QueueEntry}. */
export function toQueueEntry(id: string, row: QueueEntryRow): QueueEntry {
  const e: QueueEntry = { ...toQueuedCommand(row), enrollmentId: id, notNowCount: Number(row.not_now_count) };
  if (row.last_status === 'NotNow') e.lastStatus = 'NotNow';
  if (row.last_status_at !== null) e.lastStatusAt = row.last_status_at;
  return e;
}

/**
 * One page of an enrollment's results, newest first: checks the arguments and hands the dialect the
 * cursor (a result id, or null for the first page) and how many rows to read (one more than the page).
 */
export async function historyPage(
  limits: StorageLimits,
  id: string,
  options: PageOptions,
  read: (after: string | null, rows: number) => Promise<ResultRow[]>,
): Promise<Page<CommandResult>> {
  checkKey('enrollment id', id, limits.maxKeyLength);
  const limit = pageLimit(options.limit);
  const after = historyCursor(options);
  return pageOf(await read(after, limit + 1), limit, toResult);
}

/** Every result stored for a command, oldest first: checks the uuid and maps the dialect's rows. */
export async function resultsOf(
  limits: StorageLimits,
  commandUuid: string,
  read: (commandUuid: string) => Promise<ResultRow[]>,
): Promise<CommandResult[]> {
  checkKey('command uuid', commandUuid, limits.maxKeyLength);
  return (await read(commandUuid)).map(toResult);
}
