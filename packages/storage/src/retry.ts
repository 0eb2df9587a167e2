import { StorageError } from './errors';

/** Backoff for {@link withRetry}. */
export interface RetryOptions {
  /** Attempts in total, including the first. Default 8. */
  attempts?: number;
  /** First delay in ms; doubles each time with jitter. Default 5. */
  baseDelayMs?: number;
  /** Cap for one delay. Default 250. */
  maxDelayMs?: number;
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
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e)) throw e;
      if (i >= attempts) {
        throw new StorageError('BUSY', `database stayed busy after ${attempts} attempts`, { cause: e });
      }
      const delay = Math.min(cap, base * 2 ** (i - 1));
      await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * (delay / 2)));
    }
  }
}
