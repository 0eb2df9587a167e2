import { StorageError } from './errors';

/** Backoff for {@link withRetry}. */
export interface RetryOptions {
  /** Attempts in total, including the first. Default 8. */
  attempts?: number;
  /** First delay in ms; doubles each time with jitter. Default 5. */
  baseDelayMs?: number;
  /** Cap for one delay. Default 250. */
  maxDelayMs?: number;
  /**
   * Stop once this much time has passed since the first attempt, however many attempts are left
   * (set `attempts` to `Infinity` to bound the retries by time alone). Default: no time bound.
   */
  maxWaitMs?: number;
}

/**
 * Runs `fn` again while `isTransient` says its error is a lock, busy, deadlock or serialization
 * failure. After the last attempt the error becomes StorageError BUSY (its cause kept). Adapters wrap
 * whole transactions with it so a retried attempt starts from scratch.
 *
 * @example
 * ```ts
 * await withRetry(() => runTransaction(), (e) => (e as { code?: string }).code === '40001');
 * ```
 */
export async function withRetry<T>(
  fn: () => Promise<T> | T,
  isTransient: (e: unknown) => boolean,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 8;
  const base = options.baseDelayMs ?? 5;
  const cap = options.maxDelayMs ?? 250;
  const deadline =
    options.maxWaitMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.maxWaitMs;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e)) throw e;
      const left = deadline - Date.now();
      if (i >= attempts || left <= 0) {
        throw new StorageError('BUSY', `database stayed busy after ${i} attempts`, { cause: e });
      }
      const delay = Math.min(cap, base * 2 ** (i - 1));
      const jittered = delay / 2 + Math.random() * (delay / 2);
      // the last wait ends at the deadline, so one more attempt is made right there
      await new Promise((r) => setTimeout(r, Math.min(jittered, left)));
    }
  }
}
