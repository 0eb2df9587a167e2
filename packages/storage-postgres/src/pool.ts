import { type RetryOptions, StorageError, withRetry } from '@mdmkit/storage';
import pg from 'pg';
import { isConnectionError, isRetryablePgError, toStorageError } from './errors';
import { isSafeIdentifier, redactUrl } from '@mdmkit/storage/sql';

/** Connection settings of the PostgreSQL adapter. */
export interface PostgresConnectionOptions {
  /** `postgres://user:password@host:port/database?sslmode=...` */
  url: string;
  /**
   * Schema holding mdmkit's tables, set as `search_path` on every connection and created by
   * `migrate()` when missing. Default `public`. Must be a plain identifier (letters, digits, `_`).
   */
  schema?: string;
  /** Largest number of pooled connections. Default 10. */
  poolSize?: number;
  /** Give up connecting after this many milliseconds. Default 10,000. */
  connectTimeoutMs?: number;
  /** Retry policy for serialization failures and deadlocks. */
  retry?: RetryOptions;
  /** `application_name` shown in pg_stat_activity. Default `mdmkit`. */
  applicationName?: string;
  /**
   * Session `synchronous_commit`. Default: the server's setting (normally `on`, every commit durable
   * before it returns). `off` lets a server crash lose the last fraction of a second of commits in
   * exchange for throughput on slow disks; the queue stays consistent, a lost result only means the
   * command is delivered again.
   */
  synchronousCommit?: 'on' | 'off' | 'local' | 'remote_write' | 'remote_apply';
}

/** A pool bound to one schema, with the URL kept only in redacted form. */
export interface PgDatabase {
  readonly pool: pg.Pool;
  readonly schema: string;
  /** The URL without its password, safe to show. */
  readonly safeUrl: string;
  readonly retry: RetryOptions;
}

/**
 * Opens a pool and proves the server answers, so that a wrong URL or a database that is down fails
 * at start with the URL (without its password) in the message, not at the first device request.
 */
export async function openDatabase(options: PostgresConnectionOptions): Promise<PgDatabase> {
  if (typeof options?.url !== 'string') throw new StorageError('INVALID_INPUT', 'url must be a string');
  const safeUrl = redactUrl(options.url);
  const schema = options.schema ?? 'public';
  if (!isSafeIdentifier(schema)) {
    throw new StorageError(
      'INVALID_INPUT',
      `schema name ${JSON.stringify(schema)} is not a plain identifier`,
    );
  }
  let pool: pg.Pool;
  try {
    pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      // READ COMMITTED is what the queue's statements are written for (a fresh snapshot per
      // statement, SKIP LOCKED picks); it is set here so a server or database default never applies.
      options: `-c search_path=${schema} -c default_transaction_isolation=read\\ committed${options.synchronousCommit ? ` -c synchronous_commit=${options.synchronousCommit}` : ''}`,
      application_name: options.applicationName ?? 'mdmkit',
    });
  } catch (e) {
    throw new StorageError('INVALID_INPUT', `invalid PostgreSQL URL ${safeUrl}`, { cause: e });
  }
  // An idle client whose server goes away emits on the pool; without a listener that would crash
  // the process. The next checkout simply opens a fresh connection.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => {});
    const reason = e instanceof Error ? e.message : String(e);
    throw new StorageError('UNAVAILABLE', `cannot connect to PostgreSQL at ${safeUrl}: ${reason}`, {
      cause: e,
    });
  }
  return { pool, schema, safeUrl, retry: options.retry ?? {} };
}

/** A client checked out for one transaction. */
export type Tx = pg.PoolClient;

/**
 * Runs `fn` in one transaction and commits it. Serialization failures and deadlocks roll back and
 * run `fn` again from the start (so `fn` must touch the database only through `tx`); after the
 * retries the error is `BUSY`. A lost connection destroys the client and fails with `UNAVAILABLE`:
 * the server rolls the open transaction back, so nothing of it is stored and the caller may retry.
 *
 * @example
 * ```ts
 * const n = await transaction(db, 'count', async (tx) => (await tx.query('SELECT 1 AS n')).rows[0].n);
 * ```
 */
export async function transaction<T>(db: PgDatabase, what: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await withRetry(
      async () => {
        const client = await db.pool.connect();
        // The client must leave the pool after a socket error, or the next caller gets a dead one.
        let broken: Error | undefined;
        const onError = (e: Error) => {
          broken = e;
        };
        client.on('error', onError);
        try {
          await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
          const result = await fn(client);
          await client.query('COMMIT');
          return result;
        } catch (e) {
          if (isConnectionError(e)) {
            broken ??= e instanceof Error ? e : new Error(String(e));
          } else if (!broken) {
            try {
              await client.query('ROLLBACK');
            } catch (rollbackError) {
              broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
            }
          }
          throw e;
        } finally {
          client.off('error', onError);
          client.release(broken ?? false);
        }
      },
      isRetryablePgError,
      db.retry,
    );
  } catch (e) {
    throw toStorageError(e, what);
  }
}

/**
 * One statement in its own implicit transaction, with the same retry and error mapping. `prepared`
 * names a server-side prepared statement (per connection), which saves parsing and planning on hot
 * paths.
 */
export async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(
  db: PgDatabase,
  what: string,
  text: string,
  values?: unknown[],
  prepared?: string,
): Promise<pg.QueryResult<R>> {
  const config: pg.QueryConfig = prepared
    ? { name: prepared, text, values: values ?? [] }
    : { text, values: values ?? [] };
  try {
    return await withRetry(() => db.pool.query<R>(config), isRetryablePgError, db.retry);
  } catch (e) {
    throw toStorageError(e, what);
  }
}
