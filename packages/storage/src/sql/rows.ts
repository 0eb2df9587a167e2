import type { FinalStatus, QueuedCommand } from '../queue';
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
