// What the SQL dialects share for the outbox: the row shape and its mapping. Each dialect keeps
// only its SQL (claim with its own locking idiom).
import type { OutboxEvent } from '../outbox';
import { asDate } from './dep';

/** An outbox row as the drivers return it (dates as Date or epoch milliseconds). */
export interface OutboxRow {
  id: string;
  topic: string;
  payload: Uint8Array;
  created_at: Date | number | string;
  attempts: number | string;
  last_error: string | null;
}

/** The columns {@link OutboxRow} reads, in every dialect. */
export const outboxColumns = 'id, topic, payload, created_at, attempts, last_error';

/**
 * Maps a row to an {@link OutboxEvent}.
 *
 * @example
 * ```ts
 * const events = rows.map(toOutboxEvent);
 * ```
 */
export function toOutboxEvent(row: OutboxRow): OutboxEvent {
  const out: OutboxEvent = {
    id: row.id,
    topic: row.topic,
    payload: new Uint8Array(row.payload),
    createdAt: asDate(row.created_at) as Date,
    attempts: Number(row.attempts),
  };
  if (row.last_error !== null && row.last_error !== undefined) out.lastError = row.last_error;
  return out;
}
