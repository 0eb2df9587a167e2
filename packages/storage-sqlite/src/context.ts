// The SQLite dialect's context: one better-sqlite3 connection with its statement cache, the
// group-commit write path and the lock-wait policy. Every operation file takes it first.
import {
  isStorageError,
  resolveLastSeenInterval,
  resolveLimits,
  type RetryOptions,
  StorageError,
  type StorageLimits,
  withRetry,
} from '@mdmkit/storage';
import type { SqlContext } from '@mdmkit/storage/sql';
import Database from 'better-sqlite3';
import { batchTransaction, MAX_BATCH, type Outcome, type PendingWrite } from './batch';
import { isBusy, mapSqliteError } from './errors';
import type { SqliteIo } from './io';
import { DEFAULT_BUSY_TIMEOUT_MS, LOCK_SLICE_MS, lockRetry, type SqliteStorageOptions } from './options';

export type Db = Database.Database;

/** What every SQLite operation receives. */
export interface Ctx extends SqlContext<Db>, SqliteIo {
  /** The database file (or the wrapped handle's name). */
  readonly path: string;
  /** How long a transaction waits in total for another connection's lock (ms). */
  readonly busyTimeoutMs: number;
  /** SQLite's own (synchronous) busy timeout: the short slice of a lock wait. */
  readonly lockSlice: number;
  /** Retry policy for lock contention, bounded by {@link busyTimeoutMs}. */
  readonly lockRetry: RetryOptions;
  /** Counts SCEP writes, so expired challenges and nonces are swept now and then. */
  housekeeping: number;
  /** Throws CLOSED once the connection is closed (also when a shared handle was closed by its owner). */
  check(): void;
  /** Drops the cached prepared statements (after a schema change). */
  clearStatements(): void;
  /** Commits the writes already accepted, then closes the connection if this context opened it. */
  close(): Promise<void>;
}

/**
 * Opens (or wraps) the connection described by `options`. Throws BUSY while another process holds
 * the file for switching it to WAL, UNAVAILABLE when it cannot be opened or is not a SQLite database.
 *
 * @example
 * ```ts
 * const ctx = openContext({ path: ':memory:' });
 * await ctx.write(() => ctx.stmt('DELETE FROM queue').run());
 * ```
 */
export function openContext(options: SqliteStorageOptions): Ctx {
  return new Connection(options);
}

class Connection implements Ctx {
  readonly db: Db;
  readonly path: string;
  readonly limits: StorageLimits;
  readonly lastSeenIntervalMs: number;
  readonly lastSeenWritten = new Map<string, number>();
  readonly busyTimeoutMs: number;
  housekeeping = 0;
  readonly #owned: boolean;
  readonly #stmts = new Map<string, Database.Statement>();
  #closed = false;
  readonly #pending: PendingWrite[] = [];
  #flushScheduled = false;
  /** The batch being committed (or waiting for the lock), so close() can wait for it. */
  #flushing: Promise<void> | undefined;
  readonly #batchTxn: Database.Transaction<(batch: PendingWrite[]) => Outcome[]>;

  constructor(options: SqliteStorageOptions) {
    this.limits = resolveLimits(options.limits);
    this.lastSeenIntervalMs = resolveLastSeenInterval(options);
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (typeof this.busyTimeoutMs !== 'number' || !(this.busyTimeoutMs >= 0)) {
      throw new StorageError('INVALID_INPUT', 'busyTimeoutMs must be a non-negative number');
    }
    if (options.database) {
      this.db = options.database;
      this.#owned = false;
      this.path = options.database.name;
      this.db.pragma(`busy_timeout = ${this.lockSlice}`);
      this.#batchTxn = batchTransaction(this.db);
      return;
    }
    const path = options.path;
    if (typeof path !== 'string' || path.length === 0) {
      throw new StorageError('INVALID_INPUT', 'createSqliteStorage needs a path or a database');
    }
    this.path = path;
    this.#owned = true;
    let db: Db | undefined;
    try {
      db = new Database(path, { timeout: this.lockSlice, readonly: options.readonly ?? false });
      if (!options.readonly && path !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      // reading the schema catches files that are not SQLite databases at open time
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (e) {
      db?.close();
      throw new StorageError(
        isBusy(e) ? 'BUSY' : 'UNAVAILABLE',
        `cannot open SQLite database ${path}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    this.db = db;
    this.#batchTxn = batchTransaction(db);
  }

  get lockSlice(): number {
    return Math.min(LOCK_SLICE_MS, this.busyTimeoutMs);
  }

  get lockRetry(): RetryOptions {
    return lockRetry(this.busyTimeoutMs);
  }

  stmt(sql: string): Database.Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  clearStatements(): void {
    this.#stmts.clear();
  }

  check(): void {
    if (this.#closed || !this.db.open) throw new StorageError('CLOSED', 'storage handle is closed');
  }

  /**
   * Runs `fn` inside a write transaction. Writes requested in the same event-loop turn share one
   * `BEGIN IMMEDIATE … COMMIT` (group commit: one fsync for many clients), each in its own savepoint
   * so one failing write rolls back alone. The promise settles after the commit. Lock contention
   * retries the whole batch; one batch is in flight at a time, and writes requested while it waits
   * for the lock form the next one. `fn` is synchronous, so no other caller's statements can run
   * between its BEGIN and COMMIT on this one connection.
   */
  write<T>(fn: () => T): Promise<T> {
    this.check();
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ fn, resolve: resolve as (v: unknown) => void, reject, at: Date.now() });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#startFlush());
      }
    });
  }

  #startFlush(): void {
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = undefined;
      if (this.#pending.length > 0) setImmediate(() => this.#startFlush());
      else this.#flushScheduled = false;
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#pending.splice(0, MAX_BATCH);
    let outcomes: Outcome[] = [];
    try {
      this.check();
      // busyTimeoutMs counts from when each write was asked for, not from when its batch started
      // (writes asked for while an earlier batch waited have already waited that long)
      const oldest = batch[0]!.at;
      await withRetry(
        () => {
          outcomes = this.#batchTxn.immediate(batch);
        },
        isBusy,
        { ...this.lockRetry, maxWaitMs: Math.max(0, oldest + this.busyTimeoutMs - Date.now()) },
      );
    } catch (e) {
      const err = mapSqliteError(e, this.path);
      const now = Date.now();
      // the batch gave up at its oldest write's deadline; writes with time left wait on, in order
      const waiting = isStorageError(err, 'BUSY')
        ? batch.filter((op) => op.at + this.busyTimeoutMs > now)
        : [];
      for (const op of batch) if (!waiting.includes(op)) op.reject(err);
      this.#pending.unshift(...waiting);
      return;
    }
    batch.forEach((op, i) => {
      const o = outcomes[i]!;
      if (o.ok) op.resolve(o.value);
      else op.reject(mapSqliteError(o.value, this.path));
    });
  }

  /** Runs `fn` as one read transaction (a consistent snapshot in WAL mode). */
  async read<T>(fn: () => T): Promise<T> {
    this.check();
    try {
      return await withRetry(
        () => {
          // the handle may have been closed while this read waited for a lock
          this.check();
          return this.db.transaction(fn).deferred();
        },
        isBusy,
        this.lockRetry,
      );
    } catch (e) {
      throw mapSqliteError(e, this.path);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // writes already accepted are committed, not dropped
    while (this.#flushScheduled) await (this.#flushing ?? new Promise((r) => setImmediate(r)));
    this.#closed = true;
    this.#stmts.clear();
    if (this.#owned && this.db.open) this.db.close();
  }
}
