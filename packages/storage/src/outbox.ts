import { StorageError } from './errors';
import { checkBytes, checkKey, type StorageLimits } from './limits';
import { checkDate } from './validate';

/** One event to deliver later: written with the state change that caused it. */
export interface OutboxEventInput {
  /** Stable id, chosen by the writer; a second write of the same id is ignored. */
  id: string;
  /** What happened, e.g. `mdm.Authenticate`. */
  topic: string;
  /** The body to deliver, exactly as it will be sent. */
  payload: Uint8Array;
  /** When it happened; default now. */
  createdAt?: Date;
}

/** A stored event, as a claim returns it. */
export interface OutboxEvent {
  id: string;
  topic: string;
  payload: Uint8Array;
  createdAt: Date;
  /** Claims so far, this one included. */
  attempts: number;
  /** The error of the previous attempt, if it failed. */
  lastError?: string;
}

/** Options of {@link OutboxStore.claimOutbox}. */
export interface ClaimOutboxOptions {
  /** Most events to claim. */
  limit: number;
  /** How long the claim holds; after it, another holder may claim the events again. */
  leaseMs: number;
  now?: Date;
}

/**
 * Carried by the state-changing check-in and report writes: events written in the same
 * transaction as the change, so a crash between the two never keeps one without the other.
 */
export interface OutboxWrite {
  outbox?: readonly OutboxEventInput[];
}

/**
 * A durable outbox: events wait here until a worker confirms their delivery. Workers claim due
 * events under a lease (so replicas never deliver one event at the same time), then confirm them or
 * put them back with a later due time. Delivery is at least once: an event whose holder crashed is
 * claimed again after its lease.
 *
 * @example
 * ```ts
 * await storage.enqueueOutbox([{ id: 'e1', topic: 'mdm.CheckOut', payload: new TextEncoder().encode('{}') }]);
 * const [event] = await storage.claimOutbox('worker-1', { limit: 10, leaseMs: 30_000 });
 * await storage.confirmOutbox('worker-1', [event.id]);
 * ```
 */
export interface OutboxStore {
  /** Stores events (ids already stored are skipped) and resolves once they are durable. */
  enqueueOutbox(events: readonly OutboxEventInput[]): Promise<void>;
  /** Takes up to `limit` due, unclaimed (or lease-expired) events, oldest first, for `holder`. */
  claimOutbox(holder: string, options: ClaimOutboxOptions): Promise<OutboxEvent[]>;
  /** Removes delivered events still held by `holder`; returns how many it removed. */
  confirmOutbox(holder: string, ids: readonly string[]): Promise<number>;
  /** Releases an event held by `holder` until `dueAt`, noting why; false when no longer held. */
  rescheduleOutbox(holder: string, id: string, dueAt: Date, error: string): Promise<boolean>;
}

/** True when `store` carries the {@link OutboxStore} methods. */
export function isOutboxStore(store: unknown): store is OutboxStore {
  const s = store as Partial<OutboxStore> | undefined;
  return (
    typeof s?.enqueueOutbox === 'function' &&
    typeof s.claimOutbox === 'function' &&
    typeof s.confirmOutbox === 'function' &&
    typeof s.rescheduleOutbox === 'function'
  );
}

/** Most events one claim or one write may carry. */
export const MAX_OUTBOX_BATCH = 1000;
/** Longest stored error text, in characters; longer ones are cut. */
export const MAX_OUTBOX_ERROR = 1000;

/** A checked event, ready for a row. */
export interface CheckedOutboxEvent {
  id: string;
  topic: string;
  payload: Uint8Array;
  createdAt: Date;
}

/**
 * Validates events for {@link OutboxStore.enqueueOutbox} (or a state change carrying them).
 *
 * @example
 * ```ts
 * const rows = checkOutboxEvents(limits, input.outbox);
 * ```
 */
export function checkOutboxEvents(
  limits: StorageLimits,
  events: readonly OutboxEventInput[] | undefined,
): CheckedOutboxEvent[] {
  if (events === undefined) return [];
  if (!Array.isArray(events)) throw new StorageError('INVALID_INPUT', 'outbox events must be an array');
  if (events.length > MAX_OUTBOX_BATCH) {
    throw new StorageError('PAYLOAD_TOO_LARGE', `more than ${MAX_OUTBOX_BATCH} outbox events in one write`);
  }
  const seen = new Set<string>();
  const out: CheckedOutboxEvent[] = [];
  for (const e of events) {
    checkKey('outbox event id', e?.id, limits.maxKeyLength);
    checkKey('outbox topic', e.topic, limits.maxKeyLength);
    if (!(e.payload instanceof Uint8Array)) {
      throw new StorageError('INVALID_INPUT', 'outbox payload must be bytes');
    }
    checkBytes('outbox payload', e.payload, limits.maxBlobBytes);
    if (e.createdAt !== undefined) checkDate('createdAt', e.createdAt);
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    out.push({ id: e.id, topic: e.topic, payload: e.payload, createdAt: e.createdAt ?? new Date() });
  }
  return out;
}

/**
 * Validates a claim and returns its limit, lease end and now.
 *
 * @example
 * ```ts
 * const { limit, now, until } = checkClaim(limits, holder, options);
 * ```
 */
export function checkClaim(
  limits: StorageLimits,
  holder: string,
  options: ClaimOutboxOptions,
): { limit: number; now: Date; until: Date } {
  checkKey('holder', holder, limits.maxKeyLength);
  const limit = options?.limit;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_OUTBOX_BATCH) {
    throw new StorageError('INVALID_INPUT', `limit must be an integer in 1..${MAX_OUTBOX_BATCH}`);
  }
  if (!Number.isSafeInteger(options.leaseMs) || options.leaseMs < 1) {
    throw new StorageError('INVALID_INPUT', 'leaseMs must be a positive integer');
  }
  if (options.now !== undefined) checkDate('now', options.now);
  const now = options.now ?? new Date();
  return { limit, now, until: new Date(now.getTime() + options.leaseMs) };
}

/**
 * Validates a confirmation.
 *
 * @example
 * ```ts
 * checkConfirm(limits, holder, ids);
 * ```
 */
export function checkConfirm(limits: StorageLimits, holder: string, ids: readonly string[]): void {
  checkKey('holder', holder, limits.maxKeyLength);
  if (!Array.isArray(ids)) throw new StorageError('INVALID_INPUT', 'ids must be an array');
  if (ids.length > MAX_OUTBOX_BATCH) {
    throw new StorageError('PAYLOAD_TOO_LARGE', `more than ${MAX_OUTBOX_BATCH} ids in one confirmation`);
  }
  for (const id of ids) checkKey('outbox event id', id, limits.maxKeyLength);
}

/**
 * Validates a reschedule and returns the error text as stored (cut to {@link MAX_OUTBOX_ERROR}).
 *
 * @example
 * ```ts
 * const error = checkReschedule(limits, holder, id, dueAt, reason);
 * ```
 */
export function checkReschedule(
  limits: StorageLimits,
  holder: string,
  id: string,
  dueAt: Date,
  error: string,
): string {
  checkKey('holder', holder, limits.maxKeyLength);
  checkKey('outbox event id', id, limits.maxKeyLength);
  checkDate('dueAt', dueAt);
  if (typeof error !== 'string') throw new StorageError('INVALID_INPUT', 'error must be a string');
  return error.slice(0, MAX_OUTBOX_ERROR);
}
