import { resolveLimits, type StorageLimits } from './limits';
import {
  type CheckedOutboxEvent,
  checkClaim,
  checkConfirm,
  checkOutboxEvents,
  checkReschedule,
  type OutboxEvent,
  type OutboxEventInput,
  type OutboxStore,
} from './outbox';

interface MemOutboxRow extends CheckedOutboxEvent {
  seq: number;
  dueAt: number;
  holder?: string;
  leaseUntil?: number;
  attempts: number;
  lastError?: string;
}

/** The outbox rows one in-memory database holds; handles share it. */
export class MemoryOutboxData {
  rows = new Map<string, MemOutboxRow>();
  seq = 0;

  /** Stores checked events synchronously, so a caller can add them in the same step as its change. */
  add(events: readonly CheckedOutboxEvent[]): void {
    for (const e of events) {
      if (this.rows.has(e.id)) continue;
      this.rows.set(e.id, {
        ...e,
        payload: new Uint8Array(e.payload),
        createdAt: new Date(e.createdAt),
        seq: ++this.seq,
        dueAt: e.createdAt.getTime(),
        attempts: 0,
      });
    }
  }
}

/**
 * The in-memory {@link OutboxStore}: the reference behaviour the conformance suite checks database
 * adapters against. `MemoryStorage` carries one; it can also be used alone.
 *
 * @example
 * ```ts
 * import { MemoryOutboxData, MemoryOutboxStore } from '@mdmkit/storage';
 * const outbox = new MemoryOutboxStore({ data: new MemoryOutboxData() });
 * await outbox.enqueueOutbox([{ id: 'e1', topic: 'mdm.CheckOut', payload: new Uint8Array([123, 125]) }]);
 * console.log((await outbox.claimOutbox('w1', { limit: 5, leaseMs: 1000 })).length); // 1
 * ```
 */
export class MemoryOutboxStore implements OutboxStore {
  readonly #data: MemoryOutboxData;
  readonly #limits: StorageLimits;
  readonly #checkOpen: () => void;

  constructor(options: { data: MemoryOutboxData; limits?: StorageLimits; checkOpen?: () => void }) {
    this.#data = options.data;
    this.#limits = options.limits ?? resolveLimits();
    this.#checkOpen = options.checkOpen ?? (() => {});
  }

  async enqueueOutbox(events: readonly OutboxEventInput[]): Promise<void> {
    this.#checkOpen();
    this.#data.add(checkOutboxEvents(this.#limits, events));
  }

  async claimOutbox(
    holder: string,
    options: { limit: number; leaseMs: number; now?: Date },
  ): Promise<OutboxEvent[]> {
    this.#checkOpen();
    const { limit, now, until } = checkClaim(this.#limits, holder, options);
    const at = now.getTime();
    const due = [...this.#data.rows.values()]
      .filter((r) => r.dueAt <= at && (r.leaseUntil === undefined || r.leaseUntil <= at))
      .sort((a, b) => a.seq - b.seq)
      .slice(0, limit);
    return due.map((r) => {
      r.holder = holder;
      r.leaseUntil = until.getTime();
      r.attempts += 1;
      const out: OutboxEvent = {
        id: r.id,
        topic: r.topic,
        payload: new Uint8Array(r.payload),
        createdAt: new Date(r.createdAt),
        attempts: r.attempts,
      };
      if (r.lastError !== undefined) out.lastError = r.lastError;
      return out;
    });
  }

  async confirmOutbox(holder: string, ids: readonly string[]): Promise<number> {
    this.#checkOpen();
    checkConfirm(this.#limits, holder, ids);
    let n = 0;
    for (const id of new Set(ids)) {
      const r = this.#data.rows.get(id);
      if (r?.holder === holder) {
        this.#data.rows.delete(id);
        n += 1;
      }
    }
    return n;
  }

  async rescheduleOutbox(holder: string, id: string, dueAt: Date, error: string): Promise<boolean> {
    this.#checkOpen();
    const text = checkReschedule(this.#limits, holder, id, dueAt, error);
    const r = this.#data.rows.get(id);
    if (r?.holder !== holder) return false;
    r.holder = undefined;
    r.leaseUntil = undefined;
    r.dueAt = dueAt.getTime();
    r.lastError = text;
    return true;
  }
}
