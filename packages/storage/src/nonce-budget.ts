import { StorageError } from './errors';

/** The error every adapter throws when its sender-nonce store is full. */
export function senderNoncesFull(max: number): StorageError {
  return new StorageError(
    'FULL',
    `${max} unexpired sender nonces are stored; new ones are refused until some expire`,
  );
}

/**
 * Keeps a database's count of unexpired SCEP sender nonces under `max` without counting on every insert.
 *
 * A process counts the live rows, then admits at most `max / 100` inserts (never more than the room it
 * saw) before it counts again, so the count costs O(1) amortised per insert. Several processes sharing
 * one database can each overshoot by that step before their next count: the bound is
 * `max + processes × max / 100`. Once full, a process does not count again for a second, so a flood of
 * refused requests costs no database scan each.
 *
 * @example
 * ```ts
 * const budget = SenderNonceBudget.for(handle, limits.maxSenderNonces);
 * if ((await budget.gate({ countLive, isLive: () => isLiveNonce(nonce) })) === 'replay') return false;
 * // otherwise insert the nonce as before
 * ```
 */
export class SenderNonceBudget {
  static readonly #byOwner = new WeakMap<object, SenderNonceBudget>();

  /** The budget of one storage handle (any object that lives as long as it), made on first use. */
  static for(owner: object, max: number): SenderNonceBudget {
    let budget = SenderNonceBudget.#byOwner.get(owner);
    if (!budget) {
      budget = new SenderNonceBudget(max);
      SenderNonceBudget.#byOwner.set(owner, budget);
    }
    return budget;
  }

  readonly #max: number;
  readonly #step: number;
  #credit = 0;
  #fullUntil = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new StorageError('INVALID_INPUT', 'maxSenderNonces must be a positive integer');
    }
    this.#max = max;
    this.#step = Math.max(1, Math.floor(max / 100));
  }

  /**
   * What an adapter asks before storing a nonce: `'store'` when there is room, `'replay'` when the store
   * is full but this nonce is live (still a replay, never forgotten); throws `FULL` otherwise.
   */
  async gate(nonce: {
    countLive: () => Promise<number>;
    isLive: () => Promise<boolean>;
  }): Promise<'store' | 'replay'> {
    if (await this.admit(nonce.countLive)) return 'store';
    if (await nonce.isLive()) return 'replay';
    throw senderNoncesFull(this.#max);
  }

  /** Whether one more nonce may be stored; `countLive` returns the number of unexpired nonces stored now. */
  async admit(countLive: () => Promise<number>): Promise<boolean> {
    if (this.#credit > 0) {
      this.#credit--;
      return true;
    }
    const now = Date.now();
    if (now < this.#fullUntil) return false;
    const room = this.#max - (await countLive());
    if (room <= 0) {
      this.#fullUntil = now + 1_000;
      return false;
    }
    this.#credit = Math.min(room, this.#step) - 1;
    return true;
  }
}
