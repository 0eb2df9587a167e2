// Group commit: writes asked for in the same event-loop turn share one transaction.
import type Database from 'better-sqlite3';
import { isBusy } from './errors';

/** One write waiting for the next batch. */
export interface PendingWrite {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  /** When the write was asked for (`Date.now()`): its wait for the lock counts from here. */
  at: number;
}

/** How one write of a batch ended. */
export interface Outcome {
  ok: boolean;
  value: unknown;
}

/** Most writes committed together; bounds the time one commit holds the write lock. */
export const MAX_BATCH = 256;

/**
 * One transaction for a batch of writes. A lone write runs bare (its error rolls back the whole
 * transaction); several each get a savepoint so one failure rolls back alone. Lock errors abort the
 * whole batch so it can be retried.
 */
export function batchTransaction(
  db: Database.Database,
): Database.Transaction<(batch: PendingWrite[]) => Outcome[]> {
  return db.transaction((batch: PendingWrite[]) => {
    if (batch.length === 1) return [{ ok: true, value: batch[0]!.fn() }];
    const outcomes: Outcome[] = [];
    for (const op of batch) {
      try {
        outcomes.push({ ok: true, value: db.transaction(op.fn)() });
      } catch (e) {
        if (isBusy(e)) throw e;
        outcomes.push({ ok: false, value: e });
      }
    }
    return outcomes;
  });
}
