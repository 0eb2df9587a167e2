// The outbox store once for every SQL dialect: the checks, the empty-batch shortcuts and the row
// mapping live here; a dialect hands in only its four statements (its own locking idiom for claims).
import type { StorageLimits } from '../limits';
import {
  type CheckedOutboxEvent,
  checkClaim,
  checkConfirm,
  checkOutboxEvents,
  checkReschedule,
  type OutboxStore,
} from '../outbox';
import type { WithContext } from './operations';
import { type OutboxRow, toOutboxEvent } from './outbox';

/** The statements a dialect runs for the outbox; every argument is already checked. */
export interface OutboxStatements<C> {
  /** Stores a non-empty batch in one transaction, skipping ids already stored. */
  insert(ctx: C, events: readonly CheckedOutboxEvent[]): Promise<void>;
  /**
   * Leases up to `limit` due, unleased events to `holder` until `until`, passing over rows another
   * claimer holds locked, and returns them in enqueue order.
   */
  claim(ctx: C, holder: string, due: { limit: number; now: Date; until: Date }): Promise<OutboxRow[]>;
  /** Deletes the events of `ids` (distinct, non-empty) that `holder` holds; returns how many. */
  confirm(ctx: C, holder: string, ids: string[]): Promise<number>;
  /** Releases `holder`'s lease on `id`, due again at `dueAt` with `error`; whether it was held. */
  reschedule(ctx: C, holder: string, id: string, dueAt: Date, error: string): Promise<boolean>;
}

/**
 * The {@link OutboxStore} operations on a dialect's statements.
 *
 * @example
 * ```ts
 * export const outboxStore = outboxStoreOf<Ctx>({ insert, claim, confirm, reschedule });
 * ```
 */
export function outboxStoreOf<C extends { readonly limits: StorageLimits }>(
  statements: OutboxStatements<C>,
): WithContext<C, OutboxStore> {
  return {
    async enqueueOutbox(ctx, events) {
      const checked = checkOutboxEvents(ctx.limits, events);
      if (checked.length > 0) await statements.insert(ctx, checked);
    },
    async claimOutbox(ctx, holder, options) {
      const due = checkClaim(ctx.limits, holder, options);
      return (await statements.claim(ctx, holder, due)).map(toOutboxEvent);
    },
    async confirmOutbox(ctx, holder, ids) {
      checkConfirm(ctx.limits, holder, ids);
      if (ids.length === 0) return 0;
      return statements.confirm(ctx, holder, [...new Set(ids)]);
    },
    async rescheduleOutbox(ctx, holder, id, dueAt, error) {
      const text = checkReschedule(ctx.limits, holder, id, dueAt, error);
      return statements.reschedule(ctx, holder, id, dueAt, text);
    },
  };
}
