import type { CheckedOutboxEvent } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type mysql from 'mysql2/promise';
import type { Ctx } from './context';
import { buf, type Header, transaction, type Tx } from './pool';

/**
 * Inserts checked events on a transaction's connection; events already stored are skipped. Called
 * by the check-in and report writes so their events commit (or roll back) with them.
 */
export async function insertOutbox(tx: Tx, events: readonly CheckedOutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  // INSERT … ON DUPLICATE KEY UPDATE id = id, not INSERT IGNORE: IGNORE would also turn strict
  // mode's errors (a too-long value) into warnings.
  await tx.query(
    'INSERT INTO outbox (id, topic, payload, created_at, due_at) VALUES ? ON DUPLICATE KEY UPDATE id = id',
    [events.map((e) => [e.id, e.topic, buf(e.payload), e.createdAt, e.createdAt])],
  );
}

export const outboxStore = core.outboxStoreOf<Ctx>({
  insert: (ctx, events) => transaction(ctx.db, 'enqueueOutbox', (tx) => insertOutbox(tx, events)),
  // SKIP LOCKED (MySQL 8, MariaDB 10.6): concurrent claimers pass over rows another one is taking.
  claim: (ctx, holder, { limit, now, until }) =>
    transaction(ctx.db, 'claimOutbox', async (tx) => {
      const [due] = await tx.query<mysql.RowDataPacket[]>(
        `SELECT seq FROM outbox WHERE due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
         ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED`,
        [now, now, limit],
      );
      if (due.length === 0) return [];
      const seqs = due.map((r) => r.seq as number);
      await tx.query(
        'UPDATE outbox SET holder = ?, lease_until = ?, attempts = attempts + 1 WHERE seq IN (?)',
        [holder, until, seqs],
      );
      const [rows] = await tx.query<mysql.RowDataPacket[]>(
        `SELECT ${core.outboxColumns} FROM outbox WHERE seq IN (?) ORDER BY seq`,
        [seqs],
      );
      return rows as core.OutboxRow[];
    }),
  confirm: (ctx, holder, ids) =>
    transaction(ctx.db, 'confirmOutbox', async (tx) => {
      const [r] = await tx.query<Header>('DELETE FROM outbox WHERE id IN (?) AND holder = ?', [ids, holder]);
      return r.affectedRows;
    }),
  reschedule: (ctx, holder, id, dueAt, text) =>
    transaction(ctx.db, 'rescheduleOutbox', async (tx) => {
      const [r] = await tx.execute<Header>(
        `UPDATE outbox SET holder = NULL, lease_until = NULL, due_at = ?, last_error = ?
         WHERE id = ? AND holder = ?`,
        [dueAt, text, id, holder],
      );
      return r.affectedRows > 0;
    }),
});
