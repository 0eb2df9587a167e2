import { type RetryOptions, StorageError, withRetry } from '@mdmkit/storage';
import mysql from 'mysql2/promise';
import { isConnectionError, isRetryableMysqlError, toStorageError } from './errors';
import { isSafeIdentifier, redactUrl } from '@mdmkit/storage/sql';

/** Connection settings of the MySQL adapter. */
export interface MysqlConnectionOptions {
  /** `mysql://user:password@host:port/database`; the database must exist. */
  url: string;
  /** Largest number of pooled connections. Default 10. */
  poolSize?: number;
  /** Give up connecting after this many milliseconds. Default 10,000. */
  connectTimeoutMs?: number;
  /** Retry policy for deadlocks and lock wait timeouts. */
  retry?: RetryOptions;
}

/** A pool on one database, with the URL kept only in redacted form. */
export interface MyDatabase {
  readonly pool: mysql.Pool;
  /** Database (schema) name from the URL. */
  readonly database: string;
  /** The URL without its password, safe to show. */
  readonly safeUrl: string;
  readonly retry: RetryOptions;
}

/** A connection checked out for one transaction. */
export type Tx = mysql.PoolConnection;

interface CoreConnection {
  query(sql: string, callback: (err: unknown) => void): void;
  /** The socket; destroying it with an error fails every statement queued on the connection. */
  stream: { destroy(error?: Error): void };
}

// READ COMMITTED: no gap locks on plain index lookups and a fresh snapshot per statement, which is
// what the queue's record-then-pick transaction needs; strict mode turns silent truncation into
// errors. Both servers accept these statements.
const sessionSetup = [
  'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO'",
  "SET SESSION time_zone = '+00:00'",
];

/**
 * A connection whose session settings the server refused must never run a statement: it would run
 * at the server's isolation level, SQL mode or time zone. Destroying its socket right in the
 * setting's callback, before the next queued statement can reach the server, fails every statement
 * queued on it with this error, and the pool drops the connection.
 */
function refuseConnection(connection: CoreConnection, statement: string, err: unknown): void {
  const reason = err instanceof Error ? err.message : String(err);
  connection.stream.destroy(
    new StorageError('UNAVAILABLE', `MySQL refused the session setting "${statement}": ${reason}`, {
      cause: err,
    }),
  );
}

function parse(url: string, safeUrl: string): mysql.PoolOptions & { database: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new StorageError('INVALID_INPUT', `invalid MySQL URL ${safeUrl}`, { cause: e });
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new StorageError('INVALID_INPUT', `MySQL URL must start with mysql:// (got ${safeUrl})`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!isSafeIdentifier(database)) {
    throw new StorageError('INVALID_INPUT', `database name in ${safeUrl} must be a plain identifier`);
  }
  const ssl = u.searchParams.get('ssl');
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database,
    ...(ssl === 'true' || ssl === 'required' ? { ssl: {} } : {}),
  };
}

/**
 * Opens a pool and proves the server answers, so that a wrong URL or a database that is down fails
 * at start with the URL (without its password) in the message, not at the first device request.
 */
export async function openDatabase(options: MysqlConnectionOptions): Promise<MyDatabase> {
  if (typeof options?.url !== 'string') throw new StorageError('INVALID_INPUT', 'url must be a string');
  const safeUrl = redactUrl(options.url);
  const config = parse(options.url, safeUrl);
  const pool = mysql.createPool({
    ...config,
    connectionLimit: options.poolSize ?? 10,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    waitForConnections: true,
    timezone: 'Z',
    dateStrings: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
    charset: 'utf8mb4',
    enableKeepAlive: true,
    // the session settings are made once per connection; a reset on release would drop them
    resetOnRelease: false,
  });
  pool.on('connection', (connection) => {
    const core = connection as unknown as CoreConnection;
    // Queued ahead of any caller's statement on this connection.
    for (const statement of sessionSetup) {
      core.query(statement, (err) => {
        if (err) refuseConnection(core, statement, err);
      });
    }
  });
  try {
    const c = await pool.getConnection();
    try {
      await c.query('SELECT 1');
    } finally {
      c.release();
    }
  } catch (e) {
    await pool.end().catch(() => {});
    const reason = e instanceof Error ? e.message : String(e);
    throw new StorageError('UNAVAILABLE', `cannot connect to MySQL at ${safeUrl}: ${reason}`, { cause: e });
  }
  return { pool, database: config.database, safeUrl, retry: options.retry ?? {} };
}

/**
 * Runs `fn` in one transaction and commits it. Deadlocks and lock wait timeouts roll back and run
 * `fn` again from the start (so `fn` must touch the database only through `tx`); after the retries
 * the error is `BUSY`. A lost connection destroys the connection and fails with `UNAVAILABLE`: the
 * server rolls the open transaction back, so nothing of it is stored and the caller may retry.
 *
 * @example
 * ```ts
 * const n = await transaction(db, 'count', async (tx) => (await tx.query('SELECT 1 AS n'))[0]);
 * ```
 */
export async function transaction<T>(db: MyDatabase, what: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await withRetry(
      async () => {
        const conn = await db.pool.getConnection();
        let broken = false;
        try {
          await conn.query('START TRANSACTION');
          const result = await fn(conn);
          await conn.query('COMMIT');
          return result;
        } catch (e) {
          if (isConnectionError(e)) broken = true;
          else {
            try {
              await conn.query('ROLLBACK');
            } catch {
              broken = true;
            }
          }
          throw e;
        } finally {
          // A connection whose socket failed must not go back to the pool.
          if (broken) conn.destroy();
          else conn.release();
        }
      },
      isRetryableMysqlError,
      db.retry,
    );
  } catch (e) {
    throw toStorageError(e, what);
  }
}

type Params = (string | number | boolean | Date | Buffer | null)[];

/** One prepared statement in its own implicit transaction, with retry and error mapping. */
export async function execute<R = mysql.RowDataPacket[]>(
  db: MyDatabase,
  what: string,
  sql: string,
  params: Params = [],
): Promise<R> {
  try {
    return await withRetry(
      async () => (await db.pool.execute(sql, params))[0] as unknown as R,
      isRetryableMysqlError,
      db.retry,
    );
  } catch (e) {
    throw toStorageError(e, what);
  }
}

/** A client-side formatted statement (for `IN (?)` lists and multi-row VALUES), with retry and mapping. */
export async function query<R = mysql.RowDataPacket[]>(
  db: MyDatabase,
  what: string,
  sql: string,
  params: unknown[] = [],
): Promise<R> {
  try {
    return await withRetry(
      async () => (await db.pool.query(sql, params))[0] as unknown as R,
      isRetryableMysqlError,
      db.retry,
    );
  } catch (e) {
    throw toStorageError(e, what);
  }
}

/** Node Buffer view of bytes, as the driver wants for BLOB parameters. */
export function buf(b: Uint8Array): Buffer;
export function buf(b: Uint8Array | undefined | null): Buffer | null;
export function buf(b: Uint8Array | undefined | null): Buffer | null {
  if (b == null) return null;
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Result header of INSERT/UPDATE/DELETE. `affectedRows` counts matched rows (FOUND_ROWS is on). */
export type Header = mysql.ResultSetHeader;
