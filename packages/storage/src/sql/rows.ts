import type { ChannelType, EnrollmentRecord, Page, PageOptions } from '../enrollment';
import { StorageError } from '../errors';
import type { CommandResult, FinalStatus, QueuedCommand } from '../queue';
import { bytes } from './values';

/** The columns a dialect selects for a queued command (its pick and list queries). */
export interface CommandRow {
  command_uuid: string;
  request_type: string;
  payload: Uint8Array;
  /** Some drivers return integers as strings or bigints; the core converts. */
  priority: number | string;
  not_before: Date | null;
  expires_at: Date | null;
  created_at: Date;
}

/**
 * A queued command from its row.
 *
 * @example
 * ```ts
 * const next = rows[0] ? toQueuedCommand(rows[0]) : undefined;
 * ```
 */
export function toQueuedCommand(r: CommandRow): QueuedCommand {
  const c: QueuedCommand = {
    uuid: r.command_uuid,
    requestType: r.request_type,
    payload: bytes(r.payload),
    priority: Number(r.priority),
    enqueuedAt: r.created_at,
  };
  if (r.not_before !== null) c.notBefore = r.not_before;
  if (r.expires_at !== null) c.expiresAt = r.expires_at;
  return c;
}

/** Report statuses that finish a command (NotNow and Idle do not). */
export const finalStatuses: ReadonlySet<string> = new Set<FinalStatus>([
  'Acknowledged',
  'Error',
  'CommandFormatError',
]);

/** Columns of `enrollments` that make an {@link EnrollmentRecord}, in every dialect's schema. */
export const enrollmentColumns =
  'id, channel, device_id, serial_number, user_id, user_short_name, user_long_name, topic, push_token, push_magic, unlock_token, enabled, token_update_tally, last_seen_at, created_at, updated_at';

/** One row of {@link enrollmentColumns}. Booleans and counters may come back as numbers or strings. */
export interface EnrollmentRow {
  id: string;
  channel: ChannelType;
  device_id: string;
  serial_number: string | null;
  user_id: string | null;
  user_short_name: string | null;
  user_long_name: string | null;
  topic: string | null;
  push_token: string | null;
  push_magic: string | null;
  unlock_token: Uint8Array | null;
  enabled: boolean | number;
  token_update_tally: number | string;
  last_seen_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * An enrollment record from its row, leaving absent optional fields out.
 *
 * @example
 * ```ts
 * const record = rows[0] ? toEnrollment(rows[0]) : undefined;
 * ```
 */
export function toEnrollment(r: EnrollmentRow): EnrollmentRecord {
  const e: EnrollmentRecord = {
    id: r.id,
    channel: r.channel,
    deviceId: r.device_id,
    enabled: r.enabled === true || Number(r.enabled) === 1,
    tokenUpdateTally: Number(r.token_update_tally),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.serial_number !== null) e.serialNumber = r.serial_number;
  if (r.user_id !== null) e.userId = r.user_id;
  if (r.user_short_name !== null) e.userShortName = r.user_short_name;
  if (r.user_long_name !== null) e.userLongName = r.user_long_name;
  if (r.topic !== null) e.topic = r.topic;
  if (r.push_token !== null) e.pushToken = r.push_token;
  if (r.push_magic !== null) e.pushMagic = r.push_magic;
  if (r.unlock_token !== null) e.unlockToken = bytes(r.unlock_token);
  if (r.last_seen_at !== null) e.lastSeenAt = r.last_seen_at;
  return e;
}

/** Columns of `results` that make a {@link CommandResult}. */
export const resultColumns = 'id, enrollment_id, command_uuid, request_type, status, payload, received_at';

/** One row of {@link resultColumns}. */
export interface ResultRow {
  id: string | number;
  enrollment_id: string;
  command_uuid: string;
  request_type: string;
  status: FinalStatus;
  payload: Uint8Array;
  received_at: Date;
}

/**
 * A command result from its row.
 *
 * @example
 * ```ts
 * const results = rows.map(toResult);
 * ```
 */
export function toResult(r: ResultRow): CommandResult {
  return {
    enrollmentId: r.enrollment_id,
    commandUuid: r.command_uuid,
    requestType: r.request_type,
    status: r.status,
    payload: bytes(r.payload),
    receivedAt: r.received_at,
  };
}

/**
 * The `after` cursor of a history page (a result id as decimal digits), or null for the first page.
 *
 * @example
 * ```ts
 * historyCursor({ after: '42' }); // '42'
 * ```
 */
export function historyCursor(options: PageOptions): string | null {
  if (options.after === undefined) return null;
  if (typeof options.after !== 'string' || !/^[0-9]{1,19}$/.test(options.after)) {
    throw new StorageError('INVALID_INPUT', 'after must be a cursor returned as next');
  }
  return options.after;
}

/**
 * A page from `limit + 1` rows: the extra row only says that a next page exists; `next` is the id
 * of the last item.
 *
 * @example
 * ```ts
 * const page = pageOf(rows, limit, toResult);
 * ```
 */
export function pageOf<R extends { id: string | number }, T>(
  rows: readonly R[],
  limit: number,
  map: (row: R) => T,
): Page<T> {
  const page: Page<T> = { items: rows.slice(0, limit).map(map) };
  if (rows.length > limit) page.next = String(rows[limit - 1]!.id);
  return page;
}
