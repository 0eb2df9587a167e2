import type pg from 'pg';
import type { CheckedOutboxEvent } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import { query, transaction, type Tx } from './pool';

/**
 * Inserts checked events on a transaction's client; events already stored are skipped. Called by
 * the check-in and report writes so their events commit (or roll back) with them.
 */
export async function insertOutbox(tx: Tx, events: readonly CheckedOutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO outbox (id, topic, payload, created_at, due_at)
     SELECT t.id, t.topic, t.payload, t.created_at, t.created_at
     FROM unnest($1::text[], $2::text[], $3::bytea[], $4::timestamptz[]) WITH ORDINALITY AS t(id, topic, payload, created_at, n)
     ORDER BY t.n
     ON CONFLICT (id) DO NOTHING`,
    [
      events.map((e) => e.id),
      events.map((e) => e.topic),
      events.map((e) => Buffer.from(e.payload)),
      events.map((e) => e.createdAt),
    ],
  );
}

/** Runs one statement, on the pool or on a transaction's client. */
export interface Querier {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * Runs a single-statement write; when events come with it, the write and their insert run in one
 * transaction, and without events the write stays one statement on the pool (the hot path).
 */
export async function writeWithOutbox<T>(
  ctx: Ctx,
  what: string,
  events: readonly CheckedOutboxEvent[],
  write: (q: Querier) => Promise<T>,
): Promise<T> {
  if (events.length === 0) {
    return write({ query: (text, values) => query(ctx.db, what, text, values) });
  }
  return transaction(ctx.db, what, async (tx) => {
    const out = await write(tx);
    await insertOutbox(tx, events);
    return out;
  });
}

export const outboxStore = core.outboxStoreOf<Ctx>({
  insert: (ctx, events) => transaction(ctx.db, 'enqueueOutbox', (tx) => insertOutbox(tx, events)),
  // SKIP LOCKED: concurrent claimers pass over rows another one is taking right now.
  async claim(ctx, holder, { limit, now, until }) {
    const { rows } = await query<core.OutboxRow & { seq: string }>(
      ctx.db,
      'claimOutbox',
      `UPDATE outbox o SET holder = $1, lease_until = $2, attempts = o.attempts + 1
       FROM (SELECT seq FROM outbox
             WHERE due_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
             ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) AS due
       WHERE o.seq = due.seq
       RETURNING o.seq, ${core.outboxColumns
         .split(', ')
         .map((c) => `o.${c}`)
         .join(', ')}`,
      [holder, until, now, limit],
    );
    return rows.sort((a, b) => Number(a.seq) - Number(b.seq));
  },
  async confirm(ctx, holder, ids) {
    const { rowCount } = await query(
      ctx.db,
      'confirmOutbox',
      'DELETE FROM outbox WHERE id = ANY($1::text[]) AND holder = $2',
      [ids, holder],
    );
    return rowCount ?? 0;
  },
  async reschedule(ctx, holder, id, dueAt, text) {
    const { rowCount } = await query(
      ctx.db,
      'rescheduleOutbox',
      `UPDATE outbox SET holder = NULL, lease_until = NULL, due_at = $3, last_error = $4
       WHERE id = $1 AND holder = $2`,
      [id, holder, dueAt, text],
    );
    return (rowCount ?? 0) > 0;
  },
});
