import type { OutboxWrite } from './outbox';
import type { EnrollmentId, Page, PageOptions } from './enrollment';

/** Report statuses a device sends (`Idle` carries no CommandUUID). */
export type ReportStatus = 'Acknowledged' | 'Error' | 'CommandFormatError' | 'NotNow' | 'Idle';

/** Report statuses that finish a command for an enrollment. */
export type FinalStatus = 'Acknowledged' | 'Error' | 'CommandFormatError';

/** A command to put into one or more queues. */
export interface CommandInput {
  /** CommandUUID; unique across the whole store. */
  uuid: string;
  /** RequestType, kept for inspection and filtering. */
  requestType: string;
  /** The full command plist as sent to the device. */
  payload: Uint8Array;
  /** Higher runs first; FIFO within one priority. Integer, default 0. */
  priority?: number;
  /** Not handed out before this time. */
  notBefore?: Date;
  /** Not handed out at or after this time (it stays visible in the queue until cleared). */
  expiresAt?: Date;
}

/** A command as handed to a device. */
export interface QueuedCommand {
  uuid: string;
  requestType: string;
  payload: Uint8Array;
  priority: number;
  notBefore?: Date;
  expiresAt?: Date;
  enqueuedAt: Date;
}

/** One entry of an enrollment's queue, for inspection. */
export interface QueueEntry extends QueuedCommand {
  enrollmentId: EnrollmentId;
  /** `NotNow` after a NotNow report; `undefined` when never answered. */
  lastStatus?: 'NotNow';
  /** How many NotNow reports this entry received. */
  notNowCount: number;
  lastStatusAt?: Date;
}

/** A report about one command from one enrollment. */
export interface CommandReport extends OutboxWrite {
  enrollmentId: EnrollmentId;
  status: ReportStatus;
  /** Absent for Idle. */
  commandUuid?: string;
  /** The raw report plist, stored for final statuses. */
  payload?: Uint8Array;
}

/** A stored final result. */
export interface CommandResult {
  enrollmentId: EnrollmentId;
  commandUuid: string;
  requestType: string;
  status: FinalStatus;
  payload: Uint8Array;
  receivedAt: Date;
}

/**
 * What {@link CommandQueue.recordResult} did with a report:
 * `stored` (a new final result or a NotNow mark), `duplicate` (the same final result was already stored:
 * nothing written, not an error), `unknown` (no such command in this enrollment's queue: nothing written),
 * `idle` (an Idle report: nothing to write).
 */
export type RecordOutcome = 'stored' | 'duplicate' | 'unknown' | 'idle';

/** The outcome of recording a report plus the command to send next. */
export interface RecordResultResponse {
  outcome: RecordOutcome;
  next?: QueuedCommand;
}

/** Options for picking the next command. */
export interface NextCommandOptions {
  /** Skip commands whose last status is NotNow (true right after a NotNow report). */
  skipNotNow?: boolean;
  /** Clock override (tests, replays). */
  now?: Date;
}

/**
 * The per-enrollment command queue. Delivery is at-least-once: a command is handed out on every
 * `nextCommand` until its final result is stored, and never after.
 *
 * @example
 * ```ts
 * await storage.enqueueCommand({ uuid, requestType: 'DeviceInformation', payload }, ['UDID-1', 'UDID-2']);
 * let next = await storage.nextCommand('UDID-1');
 * const { outcome, next: following } = await storage.recordResult({
 *   enrollmentId: 'UDID-1', commandUuid: uuid, status: 'Acknowledged', payload: reportBytes,
 * });
 * ```
 */
export interface CommandQueue extends CommandEnqueuer, CommandDelivery, QueueAdmin, CommandResults {}

/**
 * Putting commands on queues.
 *
 * @example
 * ```ts
 * import type { CommandEnqueuer } from '@mdmkit/storage';
 * const send = (q: CommandEnqueuer, uuid: string, payload: Uint8Array, ids: string[]) =>
 *   q.enqueueCommand({ uuid, requestType: 'DeviceInformation', payload }, ids);
 * ```
 */
export interface CommandEnqueuer {
  /**
   * Adds one command to the queues of many enrollments atomically. Throws CONFLICT when the UUID is
   * already used, PAYLOAD_TOO_LARGE over the adapter's limit. Enrollment ids need not exist yet.
   */
  enqueueCommand(command: CommandInput, enrollmentIds: EnrollmentId[]): Promise<void>;
}

/**
 * Handing commands to a device and storing its answers: what the connect endpoint needs.
 *
 * @example
 * ```ts
 * import type { CommandDelivery } from '@mdmkit/storage';
 * const first = (q: CommandDelivery, id: string) => q.nextCommand(id);
 * ```
 */
export interface CommandDelivery {
  /** The command to hand out now: highest priority first, FIFO within a priority. */
  nextCommand(id: EnrollmentId, options?: NextCommandOptions): Promise<QueuedCommand | undefined>;
  /**
   * Stores a report and picks the next command in one transaction. Re-sending the same report is
   * harmless (`duplicate`). After a NotNow report, the pick skips NotNow'd commands; after any other
   * report, they are eligible again.
   */
  recordResult(report: CommandReport, options?: { now?: Date }): Promise<RecordResultResponse>;
}

/**
 * Looking at and emptying one enrollment's queue.
 *
 * @example
 * ```ts
 * import type { QueueAdmin } from '@mdmkit/storage';
 * const pending = async (q: QueueAdmin, id: string) => (await q.listQueue(id)).length;
 * ```
 */
export interface QueueAdmin {
  /** Unfinished entries of an enrollment's queue in hand-out order (including not-yet-due and expired). */
  listQueue(id: EnrollmentId): Promise<QueueEntry[]>;
  /** Removes every unfinished entry from an enrollment's queue; returns how many. */
  clearQueue(id: EnrollmentId): Promise<number>;
}

/**
 * Stored results: reading them and pruning old commands.
 *
 * @example
 * ```ts
 * import type { CommandResults } from '@mdmkit/storage';
 * const prune = (r: CommandResults) => r.deleteFinishedCommands(new Date(Date.now() - 30 * 86_400_000));
 * ```
 */
export interface CommandResults {
  /** Final results for a CommandUUID (one per enrollment that answered). */
  getResults(commandUuid: string): Promise<CommandResult[]>;
  /** An enrollment's final results, newest first, paged by receive order. */
  listHistory(id: EnrollmentId, options?: PageOptions): Promise<Page<CommandResult>>;
  /**
   * Deletes commands that no queue still waits on and whose newest final result (or, with none, the
   * enqueue time) is older than `before`,
   * together with their results. Returns how many commands were deleted.
   */
  deleteFinishedCommands(before: Date): Promise<number>;
}
