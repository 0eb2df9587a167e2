import { StorageError, withRetry } from '@mdmkit/storage';
import { type SqlOperations, SqlStorage } from '@mdmkit/storage/sql';
import { type Ctx, type Db, openContext } from './context';
import { depStore } from './dep-store';
import * as enrollments from './enrollments';
import { isBusy, mapSqliteError } from './errors';
import * as leases from './leases';
import { lifecycleStore } from './lifecycle-store';
import { migrateSqlite } from './migrations';
import { DEFAULT_BUSY_TIMEOUT_MS, lockRetry, type SqliteStorageOptions } from './options';
import { outboxStore } from './outbox-store';
import * as pushCerts from './push-certs';
import * as queries from './queries';
import * as queue from './queue';
import * as scep from './scep';
import { secretStore } from './secret-store';

// Reads run outside ctx.write; give their driver errors (I/O, corruption) the same StorageError
// mapping, and wait for a lock that keeps readers out (another connection's EXCLUSIVE lock outside
// WAL mode, WAL recovery) the way writes do: short attempts, asynchronous backoff, busyTimeoutMs in
// total. Only a driver error is retried: a write these operations make inside ctx.write settles
// with a StorageError.
const reads = [
  'getEnrollment',
  'getBootstrapToken',
  'enrollmentForCertificate',
  'isCertificateAssociated',
  'exportEnrollments',
  'listEnrollments',
  'getPushInfo',
  'nextCommand',
  'recordResult',
  'listQueue',
  'getResults',
  'listHistory',
  'getIssuedCertificate',
  'findIssuedCertificatesBySubject',
  'getPushCert',
  'listPushCerts',
  'getLease',
  'readJobState',
] as const;

function withReadRetry(ops: SqlOperations<Ctx>): SqlOperations<Ctx> {
  const out: Record<string, unknown> = { ...ops };
  for (const name of reads) {
    const op = ops[name] as (ctx: Ctx, ...args: unknown[]) => Promise<unknown>;
    out[name] = async (ctx: Ctx, ...args: unknown[]) => {
      try {
        return await withRetry(() => op(ctx, ...args), isBusy, ctx.lockRetry);
      } catch (e) {
        throw mapSqliteError(e, ctx.path);
      }
    };
  }
  return out as SqlOperations<Ctx>;
}

const operations = withReadRetry({ ...enrollments, ...queue, ...queries, ...scep, ...pushCerts, ...leases });
const stores = { ...depStore, ...secretStore, ...outboxStore, ...lifecycleStore };

/**
 * Opens (and by default migrates) a SQLite database as mdmkit storage: one file in WAL mode, so
 * readers never block the writer, with every write in one short `BEGIN IMMEDIATE` transaction.
 * Several processes may open the same file; lock contention is waited out and retried.
 *
 * @example
 * ```ts
 * import { createSqliteStorage } from '@mdmkit/storage-sqlite';
 * const storage = await createSqliteStorage({ path: '/var/lib/mdm/mdm.sqlite' });
 * await storage.enqueueCommand({ uuid, requestType: 'DeviceInformation', payload }, [udid]);
 * await storage.close();
 * ```
 */
export async function createSqliteStorage(options: SqliteStorageOptions): Promise<SqliteStorage> {
  // another process switching the file to WAL holds it briefly; wait for it without blocking
  const storage = await withRetry(
    () => new SqliteStorage(options),
    (e) => e instanceof StorageError && e.code === 'BUSY',
    lockRetry(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS),
  ).catch((e: unknown) => {
    throw e instanceof StorageError && e.code === 'BUSY' && e.cause instanceof StorageError ? e.cause : e;
  });
  if (options.migrate !== false && !options.readonly) {
    try {
      await storage.migrate();
    } catch (e) {
      await storage.close();
      throw e;
    }
  }
  return storage;
}

/**
 * The SQLite adapter, a dialect of the SQL core: the operations (enrollments.ts, queue.ts, …) run
 * their statements synchronously on the one better-sqlite3 connection, writes inside the context's
 * group-committed `BEGIN IMMEDIATE` batches. Create it with {@link createSqliteStorage}, which also
 * migrates.
 *
 * @example
 * ```ts
 * const storage = await createSqliteStorage({ path: 'mdm.sqlite', synchronous: 'NORMAL' });
 * const { outcome, next } = await storage.recordResult({
 *   enrollmentId: udid, commandUuid, status: 'Acknowledged', payload: reportBytes,
 * });
 * ```
 */
export class SqliteStorage extends SqlStorage<Ctx> {
  readonly #ctx: Ctx;

  /** Prefer {@link createSqliteStorage}, which waits for a locked file and migrates. */
  constructor(options: SqliteStorageOptions) {
    const ctx = openContext(options);
    super({ ctx, operations, stores, migrate: migrateSqlite, close: (c) => c.close() });
    this.#ctx = ctx;
  }

  /** The database file (or the wrapped handle's name). */
  get path(): string {
    return this.#ctx.path;
  }

  /** The underlying better-sqlite3 handle, for backups and diagnostics. */
  get database(): Db {
    return this.#ctx.db;
  }
}
