import {
  type CheckedOutboxEvent,
  checkClaim,
  checkConfirm,
  checkOutboxEvents,
  checkReschedule,
  type OutboxStore,
} from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Row, SqliteIo } from './io';

/**
 * Inserts checked events; events already stored are skipped. Synchronous, so the check-in and
 * report writes call it inside their own write function and the events commit with them.
 */
export function insertOutbox(io: Pick<SqliteIo, 'stmt'>, events: readonly CheckedOutboxEvent[]): void {
  if (events.length === 0) return;
  const insert = io.stmt(
    `INSERT INTO outbox (id, topic, payload, created_at, due_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (id) DO NOTHING`,
  );
  for (const e of events) {
    const at = e.createdAt.getTime();
    insert.run(e.id, e.topic, Buffer.from(e.payload), at, at);
  }
}

export const outboxStore: core.WithContext<SqliteIo, OutboxStore> = {
  async enqueueOutbox(io, events) {
    const checked = checkOutboxEvents(io.limits, events);
    if (checked.length === 0) return;
    await io.write(() => insertOutbox(io, checked));
  },
  // Writes are serialised (BEGIN IMMEDIATE), so a claim is a plain UPDATE … RETURNING.
  async claimOutbox(io, holder, options) {
    const { limit, now, until } = checkClaim(io.limits, holder, options);
    const rows = await io.write(
      () =>
        io
          .stmt(
            `UPDATE outbox SET holder = ?, lease_until = ?, attempts = attempts + 1
             WHERE seq IN (SELECT seq FROM outbox WHERE due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
                           ORDER BY seq LIMIT ?)
             RETURNING seq, ${core.outboxColumns}`,
          )
          .all(holder, until.getTime(), now.getTime(), now.getTime(), limit) as Row[],
    );
    return (rows as unknown as (core.OutboxRow & { seq: number })[])
      .sort((a, b) => a.seq - b.seq)
      .map(core.toOutboxEvent);
  },
  async confirmOutbox(io, holder, ids) {
    checkConfirm(io.limits, holder, ids);
    if (ids.length === 0) return 0;
    return io.write(() => {
      const remove = io.stmt('DELETE FROM outbox WHERE id = ? AND holder = ?');
      let n = 0;
      for (const id of new Set(ids)) n += remove.run(id, holder).changes;
      return n;
    });
  },
  async rescheduleOutbox(io, holder, id, dueAt, error) {
    const text = checkReschedule(io.limits, holder, id, dueAt, error);
    return io.write(
      () =>
        io
          .stmt(
            `UPDATE outbox SET holder = NULL, lease_until = NULL, due_at = ?, last_error = ?
             WHERE id = ? AND holder = ?`,
          )
          .run(dueAt.getTime(), text, id, holder).changes > 0,
    );
  },
};
