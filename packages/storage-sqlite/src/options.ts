import type { CommonStorageOptions, RetryOptions } from '@mdmkit/storage';
import type Database from 'better-sqlite3';

/**
 * SQLite's busy handler sleeps synchronously, freezing the whole event loop while it waits. It is
 * kept to this short slice; longer waits for a lock are asynchronous backoff between attempts.
 */
export const LOCK_SLICE_MS = 5;

/** Default of {@link SqliteStorageOptions.busyTimeoutMs}. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** Retry policy for lock contention: bounded by `busyTimeoutMs` in total, waited out asynchronously. */
export function lockRetry(busyTimeoutMs: number): RetryOptions {
  return { attempts: Number.POSITIVE_INFINITY, maxWaitMs: busyTimeoutMs, baseDelayMs: 2, maxDelayMs: 50 };
}

/** Options for {@link createSqliteStorage}. */
export interface SqliteStorageOptions extends CommonStorageOptions {
  /** Database file path; created if missing (its directory must exist). */
  path?: string;
  /**
   * An already open better-sqlite3 database to use instead of `path` (for example one `:memory:`
   * database shared by several storage objects). It is not closed by {@link SqliteStorage.close}.
   */
  database?: Database.Database;
  /** Run migrations while opening. Default true. */
  migrate?: boolean;
  /**
   * How long a transaction waits in total for another connection's lock before failing with
   * `BUSY`. The wait is asynchronous (short attempts with backoff in between), so the event loop
   * keeps serving other requests meanwhile. Default 5000 ms.
   */
  busyTimeoutMs?: number;
  /**
   * `FULL` (default) makes every commit durable across power loss; `NORMAL` is faster and still
   * loses nothing when only the process crashes (WAL mode).
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** Open read-only (queries only). */
  readonly?: boolean;
}
