import {
  type AuthenticateInput,
  type CommandInput,
  type CommandReport,
  type CommandResult,
  checkBytes,
  checkOutboxEvents,
  type OutboxWrite,
  checkCommand,
  checkDate,
  checkKey,
  checkPriority,
  checkReport,
  resolveLastSeenInterval,
  type EnrollmentExport,
  type EnrollmentFilter,
  type EnrollmentId,
  type EnrollmentRecord,
  type FinalStatus,
  type IssuedCertificateRecord,
  isStorageError,
  type JobState,
  type Lease,
  type MdmStorage,
  type MigrationDriver,
  type MigrationReport,
  type NextCommandOptions,
  type Page,
  type PageOptions,
  pageSize,
  type PushInfo,
  type QueueEntry,
  type QueuedCommand,
  type RecordResultResponse,
  type RetryOptions,
  resolveLimits,
  runMigrations,
  SenderNonceBudget,
  StorageError,
  type StorageLimits,
  type StoredPushCert,
  type TokenUpdateInput,
  type UserAuthenticateInput,
  withRetry,
} from '@mdmkit/storage';
import Database from 'better-sqlite3';
import { isBusy, mapSqliteError } from './errors';
import { sqliteMigrations } from './schema';
import { depStore } from './dep-store';
import { sqliteFeatureMigrations } from './feature-schema';
import type { SqliteIo } from './io';
import { insertOutbox, outboxStore } from './outbox-store';
import { secretStore } from './secret-store';
import { lifecycleStore } from './lifecycle-store';
import { batchTransaction, MAX_BATCH, type Outcome, type PendingWrite } from './batch';
import { DEFAULT_BUSY_TIMEOUT_MS, LOCK_SLICE_MS, lockRetry, type SqliteStorageOptions } from './options';
import { buf, date, ms, u8 } from './values';
import {
  bindStores,
  checkAcquire,
  checkLease,
  checkPushCert,
  issuedValues,
  type SqlStores,
  withFeatureMigrations,
} from '@mdmkit/storage/sql';

type Db = Database.Database;
type Row = Record<string, unknown>;

/** Columns of an EnrollmentRecord (not the bootstrap token or raw message blobs). */
const ENROLLMENT_COLUMNS =
  'id, channel, device_id, serial_number, user_id, user_short_name, user_long_name, topic, push_token, push_magic, unlock_token, enabled, token_update_tally, last_seen_at, created_at, updated_at';

const migrationLocks = new WeakMap<Db, Promise<void>>();
/** Each storage object's `busyTimeoutMs`, for the read wrappers below the class. */
const busyTimeouts = new WeakMap<object, number>();

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
 * The SQLite adapter. Create it with {@link createSqliteStorage}, which also migrates.
 *
 * @example
 * ```ts
 * const storage = await createSqliteStorage({ path: 'mdm.sqlite', synchronous: 'NORMAL' });
 * const { outcome, next } = await storage.recordResult({
 *   enrollmentId: udid, commandUuid, status: 'Acknowledged', payload: reportBytes,
 * });
 * ```
 */
// The DEP, secret and audit-event methods come from dep-store.ts and secret-store.ts, bound per handle.
// The methods are bound in the constructor (bindStores).
export interface SqliteStorage extends SqlStores {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above
export class SqliteStorage implements MdmStorage {
  readonly #db: Db;
  readonly #owned: boolean;
  readonly #path: string;
  readonly #limits: StorageLimits;
  readonly #lastSeenInterval: number;
  readonly #busyTimeout: number;
  readonly #stmts = new Map<string, Database.Statement>();
  readonly #seen = new Map<string, number>();
  #closed = false;
  #housekeeping = 0;
  readonly #pending: PendingWrite[] = [];
  #flushScheduled = false;
  /** The batch being committed (or waiting for the lock), so close() can wait for it. */
  #flushing: Promise<void> | undefined;
  readonly #batchTxn: Database.Transaction<(batch: PendingWrite[]) => Outcome[]>;

  constructor(options: SqliteStorageOptions) {
    bindStores(this, { ...depStore, ...secretStore, ...outboxStore, ...lifecycleStore }, () => this.#io);
    this.#limits = resolveLimits(options.limits);
    this.#lastSeenInterval = resolveLastSeenInterval(options);
    this.#busyTimeout = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (typeof this.#busyTimeout !== 'number' || !(this.#busyTimeout >= 0)) {
      throw new StorageError('INVALID_INPUT', 'busyTimeoutMs must be a non-negative number');
    }
    busyTimeouts.set(this, this.#busyTimeout);
    if (options.database) {
      this.#db = options.database;
      this.#owned = false;
      this.#path = options.database.name;
      this.#db.pragma(`busy_timeout = ${this.#lockSlice}`);
      this.#batchTxn = batchTransaction(this.#db);
      return;
    }
    const path = options.path;
    if (typeof path !== 'string' || path.length === 0) {
      throw new StorageError('INVALID_INPUT', 'createSqliteStorage needs a path or a database');
    }
    this.#path = path;
    this.#owned = true;
    let db: Db | undefined;
    try {
      db = new Database(path, { timeout: this.#lockSlice, readonly: options.readonly ?? false });
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
    this.#db = db;
    this.#batchTxn = batchTransaction(db);
  }

  /** The database file (or the wrapped handle's name). */
  get path(): string {
    return this.#path;
  }

  /** The underlying better-sqlite3 handle, for backups and diagnostics. */
  get database(): Db {
    return this.#db;
  }

  // ---- plumbing ----

  /** The synchronous part of a lock wait: SQLite's own busy timeout. */
  get #lockSlice(): number {
    return Math.min(LOCK_SLICE_MS, this.#busyTimeout);
  }

  get #lockRetry(): RetryOptions {
    return lockRetry(this.#busyTimeout);
  }

  #stmt(sql: string): Database.Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  #ioCache: SqliteIo | undefined;

  /** This handle's plumbing for the store files; CLOSED once closed. */
  get #io(): SqliteIo {
    this.#check();
    this.#ioCache ??= {
      limits: this.#limits,
      write: (fn) => this.#write(fn),
      read: (fn) => this.#read(fn),
      stmt: (sql) => this.#stmt(sql),
    };
    return this.#ioCache;
  }

  #check(): void {
    if (this.#closed || !this.#db.open) throw new StorageError('CLOSED', 'storage handle is closed');
  }

  /**
   * Runs `fn` inside a write transaction. Writes requested in the same event-loop turn share one
   * `BEGIN IMMEDIATE … COMMIT` (group commit: one fsync for many clients), each in its own savepoint
   * so one failing write rolls back alone. The promise settles after the commit. Lock contention
   * retries the whole batch; one batch is in flight at a time, and writes requested while it waits
   * for the lock form the next one.
   */
  #write<T>(fn: () => T): Promise<T> {
    this.#check();
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
      if (this.#closed || !this.#db.open) throw new StorageError('CLOSED', 'storage handle is closed');
      // busyTimeoutMs counts from when each write was asked for, not from when its batch started
      // (writes asked for while an earlier batch waited have already waited that long)
      const oldest = batch[0]!.at;
      await withRetry(
        () => {
          outcomes = this.#batchTxn.immediate(batch);
        },
        isBusy,
        { ...this.#lockRetry, maxWaitMs: Math.max(0, oldest + this.#busyTimeout - Date.now()) },
      );
    } catch (e) {
      const err = mapSqliteError(e, this.#path);
      const now = Date.now();
      // the batch gave up at its oldest write's deadline; writes with time left wait on, in order
      const waiting = isStorageError(err, 'BUSY')
        ? batch.filter((op) => op.at + this.#busyTimeout > now)
        : [];
      for (const op of batch) if (!waiting.includes(op)) op.reject(err);
      this.#pending.unshift(...waiting);
      return;
    }
    batch.forEach((op, i) => {
      const o = outcomes[i]!;
      if (o.ok) op.resolve(o.value);
      else op.reject(mapSqliteError(o.value, this.#path));
    });
  }

  /** Runs `fn` as one read transaction (a consistent snapshot in WAL mode). */
  async #read<T>(fn: () => T): Promise<T> {
    this.#check();
    try {
      return await withRetry(
        () => {
          // the handle may have been closed while this read waited for a lock
          this.#check();
          return this.#db.transaction(fn).deferred();
        },
        isBusy,
        this.#lockRetry,
      );
    } catch (e) {
      throw mapSqliteError(e, this.#path);
    }
  }

  #key(what: string, v: unknown): asserts v is string {
    checkKey(what, v, this.#limits.maxKeyLength);
  }

  // ---- lifecycle ----

  async migrate(): Promise<MigrationReport> {
    this.#check();
    const db = this.#db;
    // A lock held across awaits must never be waited for synchronously by another connection in
    // this same thread (it could never be released), so the migration lock is polled instead.
    const polled = async <T>(fn: () => T): Promise<T> => {
      const deadline = Date.now() + Math.max(this.#busyTimeout, 30_000);
      db.pragma('busy_timeout = 0');
      try {
        for (;;) {
          try {
            return fn();
          } catch (e) {
            if (!isBusy(e) || Date.now() > deadline) throw e;
            await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
          }
        }
      } finally {
        db.pragma(`busy_timeout = ${this.#lockSlice}`);
      }
    };
    const driver: MigrationDriver<string> = {
      ensureTable: () =>
        polled(() => {
          db.exec(
            'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
          );
        }),
      exclusive: async (fn) => {
        // storage objects sharing one connection queue here; other connections meet BEGIN IMMEDIATE
        const prev = migrationLocks.get(db) ?? Promise.resolve();
        let release!: () => void;
        const mine = new Promise<void>((r) => {
          release = r;
        });
        migrationLocks.set(db, mine);
        await prev;
        try {
          await polled(() => db.exec('BEGIN IMMEDIATE'));
          try {
            const out = await fn();
            db.exec('COMMIT');
            return out;
          } catch (e) {
            if (db.inTransaction) db.exec('ROLLBACK');
            throw e;
          }
        } finally {
          if (migrationLocks.get(db) === mine) migrationLocks.delete(db);
          release();
        }
      },
      applied: async () =>
        (db.prepare('SELECT version, name, applied_at FROM schema_migrations').all() as Row[]).map((r) => ({
          version: r.version as number,
          name: r.name as string,
          appliedAt: date(r.applied_at),
        })),
      apply: async (m) => {
        db.exec(m.up);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          m.version,
          m.name,
          Date.now(),
        );
      },
    };
    try {
      return await runMigrations(driver, withFeatureMigrations(sqliteMigrations, sqliteFeatureMigrations));
    } finally {
      this.#stmts.clear();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // writes already accepted are committed, not dropped
    while (this.#flushScheduled) await (this.#flushing ?? new Promise((r) => setImmediate(r)));
    this.#closed = true;
    this.#stmts.clear();
    if (this.#owned && this.#db.open) this.#db.close();
  }

  // ---- enrollments ----

  #toRecord(r: Row): EnrollmentRecord {
    const rec: EnrollmentRecord = {
      id: r.id as string,
      channel: r.channel as 'device' | 'user',
      deviceId: r.device_id as string,
      enabled: r.enabled === 1,
      tokenUpdateTally: r.token_update_tally as number,
      createdAt: date(r.created_at),
      updatedAt: date(r.updated_at),
    };
    if (r.serial_number != null) rec.serialNumber = r.serial_number as string;
    if (r.user_id != null) rec.userId = r.user_id as string;
    if (r.user_short_name != null) rec.userShortName = r.user_short_name as string;
    if (r.user_long_name != null) rec.userLongName = r.user_long_name as string;
    if (r.topic != null) rec.topic = r.topic as string;
    if (r.push_token != null) rec.pushToken = r.push_token as string;
    if (r.push_magic != null) rec.pushMagic = r.push_magic as string;
    if (r.unlock_token != null) rec.unlockToken = u8(r.unlock_token);
    if (r.last_seen_at != null) rec.lastSeenAt = date(r.last_seen_at);
    return rec;
  }

  #disableUsers(deviceId: string, now: number): void {
    this.#stmt(
      "UPDATE enrollments SET enabled = 0, updated_at = ? WHERE device_id = ? AND channel = 'user' AND enabled = 1",
    ).run(now, deviceId);
  }

  async authenticate(input: AuthenticateInput): Promise<void> {
    this.#key('enrollment id', input.id);
    checkBytes('raw message', input.raw, this.#limits.maxBlobBytes);
    const events = checkOutboxEvents(this.#limits, input.outbox);
    await this.#write(() => {
      const now = Date.now();
      insertOutbox(this.#io, events);
      this.#stmt(
        `INSERT INTO enrollments (id, channel, device_id, serial_number, topic, enabled, token_update_tally, last_message, created_at, updated_at)
         VALUES (?, 'device', ?, ?, ?, 0, 0, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET channel = 'device', device_id = excluded.device_id,
           serial_number = COALESCE(excluded.serial_number, serial_number), topic = COALESCE(excluded.topic, topic),
           enabled = 0, token_update_tally = 0, last_message = excluded.last_message, updated_at = excluded.updated_at`,
      ).run(input.id, input.id, input.serialNumber ?? null, input.topic ?? null, buf(input.raw), now, now);
      // a new Authenticate starts the whole enrollment over, user channels and queues included
      this.#stmt(
        `DELETE FROM queue WHERE enrollment_id = ?
           OR enrollment_id IN (SELECT id FROM enrollments WHERE device_id = ? AND channel = 'user')`,
      ).run(input.id, input.id);
      this.#stmt(
        `UPDATE enrollments SET enabled = 0, token_update_tally = 0, updated_at = ?
         WHERE device_id = ? AND channel = 'user' AND (enabled = 1 OR token_update_tally <> 0)`,
      ).run(now, input.id);
    });
  }

  async tokenUpdate(input: TokenUpdateInput): Promise<number> {
    this.#key('enrollment id', input.id);
    if (input.channel !== 'device' && input.channel !== 'user') {
      throw new StorageError('INVALID_INPUT', 'channel must be device or user');
    }
    const deviceId = input.deviceId ?? (input.channel === 'device' ? input.id : undefined);
    this.#key('device id', deviceId);
    this.#key('topic', input.topic);
    this.#key('push token', input.pushToken);
    this.#key('push magic', input.pushMagic);
    checkBytes('unlock token', input.unlockToken, this.#limits.maxBlobBytes);
    checkBytes('raw message', input.raw, this.#limits.maxBlobBytes);
    const events = checkOutboxEvents(this.#limits, input.outbox);
    return this.#write(() => {
      const now = Date.now();
      insertOutbox(this.#io, events);
      const row = this.#stmt(
        `INSERT INTO enrollments (id, channel, device_id, user_id, user_short_name, user_long_name, topic, push_token,
           push_magic, unlock_token, enabled, token_update_tally, last_message, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, device_id = excluded.device_id,
           user_id = COALESCE(excluded.user_id, user_id), user_short_name = COALESCE(excluded.user_short_name, user_short_name),
           user_long_name = COALESCE(excluded.user_long_name, user_long_name), topic = excluded.topic,
           push_token = excluded.push_token, push_magic = excluded.push_magic,
           unlock_token = COALESCE(excluded.unlock_token, unlock_token), enabled = 1,
           token_update_tally = token_update_tally + 1, last_message = COALESCE(excluded.last_message, last_message),
           updated_at = excluded.updated_at
         RETURNING token_update_tally`,
      ).get(
        input.id,
        input.channel,
        deviceId,
        input.userId ?? null,
        input.userShortName ?? null,
        input.userLongName ?? null,
        input.topic,
        input.pushToken,
        input.pushMagic,
        buf(input.unlockToken),
        buf(input.raw),
        now,
        now,
      ) as Row;
      return row.token_update_tally as number;
    });
  }

  async userAuthenticate(input: UserAuthenticateInput): Promise<void> {
    this.#key('enrollment id', input.id);
    this.#key('device id', input.deviceId);
    checkBytes('raw message', input.raw, this.#limits.maxBlobBytes);
    const events = checkOutboxEvents(this.#limits, input.outbox);
    await this.#write(() => {
      const now = Date.now();
      insertOutbox(this.#io, events);
      this.#stmt(
        `INSERT INTO enrollments (id, channel, device_id, user_id, user_short_name, user_long_name, enabled,
           token_update_tally, last_message, created_at, updated_at)
         VALUES (?, 'user', ?, ?, ?, ?, 0, 0, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET channel = 'user', device_id = excluded.device_id,
           user_id = COALESCE(excluded.user_id, user_id), user_short_name = COALESCE(excluded.user_short_name, user_short_name),
           user_long_name = COALESCE(excluded.user_long_name, user_long_name),
           last_message = COALESCE(excluded.last_message, last_message), updated_at = excluded.updated_at`,
      ).run(
        input.id,
        input.deviceId,
        input.userId ?? null,
        input.userShortName ?? null,
        input.userLongName ?? null,
        buf(input.raw),
        now,
        now,
      );
    });
  }

  async checkOut(id: EnrollmentId, options?: OutboxWrite): Promise<void> {
    this.#key('enrollment id', id);
    const events = checkOutboxEvents(this.#limits, options?.outbox);
    await this.#write(() => {
      const now = Date.now();
      insertOutbox(this.#io, events);
      const row = this.#stmt('SELECT channel FROM enrollments WHERE id = ?').get(id) as Row | undefined;
      if (!row) return;
      this.#stmt('UPDATE enrollments SET enabled = 0, updated_at = ? WHERE id = ?').run(now, id);
      if (row.channel === 'device') this.#disableUsers(id, now);
    });
  }

  async getEnrollment(id: EnrollmentId): Promise<EnrollmentRecord | undefined> {
    this.#check();
    const row = this.#stmt(`SELECT ${ENROLLMENT_COLUMNS} FROM enrollments WHERE id = ?`).get(id) as
      | Row
      | undefined;
    return row ? this.#toRecord(row) : undefined;
  }

  async putBootstrapToken(id: EnrollmentId, token: Uint8Array): Promise<void> {
    this.#key('enrollment id', id);
    if (!(token instanceof Uint8Array))
      throw new StorageError('INVALID_INPUT', 'bootstrap token must be bytes');
    checkBytes('bootstrap token', token, this.#limits.maxBlobBytes);
    const changed = await this.#write(
      () => this.#stmt('UPDATE enrollments SET bootstrap_token = ? WHERE id = ?').run(buf(token), id).changes,
    );
    if (changed === 0) throw new StorageError('NOT_FOUND', 'no such enrollment');
  }

  async getBootstrapToken(id: EnrollmentId): Promise<Uint8Array | undefined> {
    this.#check();
    const row = this.#stmt('SELECT bootstrap_token FROM enrollments WHERE id = ?').get(id) as Row | undefined;
    return row?.bootstrap_token != null ? u8(row.bootstrap_token) : undefined;
  }

  async touchLastSeen(id: EnrollmentId, at: Date = new Date()): Promise<boolean> {
    this.#key('enrollment id', id);
    checkDate('at', at);
    const t = at.getTime();
    // this handle wrote within the interval: the database would refuse too, so skip the write lock
    const mine = this.#seen.get(id);
    if (mine !== undefined && mine > t - this.#lastSeenInterval) {
      this.#check();
      return false;
    }
    const changed = await this.#write(
      () =>
        this.#stmt(
          'UPDATE enrollments SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at <= ?)',
        ).run(t, id, t - this.#lastSeenInterval).changes,
    );
    if (changed === 1) {
      if (this.#seen.size >= 100_000) this.#seen.clear();
      this.#seen.set(id, t);
    }
    return changed === 1;
  }

  async associateCertificate(id: EnrollmentId, certHash: string): Promise<void> {
    this.#key('enrollment id', id);
    this.#key('certificate hash', certHash);
    const owner = await this.#write(() => {
      this.#stmt(
        'INSERT INTO cert_associations (cert_hash, enrollment_id, created_at) VALUES (?, ?, ?) ON CONFLICT (cert_hash) DO NOTHING',
      ).run(certHash, id, Date.now());
      return (
        this.#stmt('SELECT enrollment_id FROM cert_associations WHERE cert_hash = ?').get(certHash) as Row
      ).enrollment_id;
    });
    if (owner !== id)
      throw new StorageError('CONFLICT', 'certificate is already associated with another enrollment');
  }

  async replaceCertificate(id: EnrollmentId, certHash: string): Promise<void> {
    this.#key('enrollment id', id);
    this.#key('certificate hash', certHash);
    await this.#write(() => {
      this.#stmt(
        'INSERT INTO cert_associations (cert_hash, enrollment_id, created_at) VALUES (?, ?, ?) ON CONFLICT (cert_hash) DO NOTHING',
      ).run(certHash, id, Date.now());
      const owner = (
        this.#stmt('SELECT enrollment_id FROM cert_associations WHERE cert_hash = ?').get(certHash) as Row
      ).enrollment_id;
      // Thrown inside the write, so its savepoint rolls back and nothing is unbound.
      if (owner !== id)
        throw new StorageError('CONFLICT', 'certificate is already associated with another enrollment');
      this.#stmt('DELETE FROM cert_associations WHERE enrollment_id = ? AND cert_hash <> ?').run(
        id,
        certHash,
      );
    });
  }

  async enrollmentForCertificate(certHash: string): Promise<EnrollmentId | undefined> {
    this.#check();
    const row = this.#stmt('SELECT enrollment_id FROM cert_associations WHERE cert_hash = ?').get(certHash) as
      | Row
      | undefined;
    return row?.enrollment_id as string | undefined;
  }

  async isCertificateAssociated(id: EnrollmentId, certHash: string): Promise<boolean> {
    return (await this.enrollmentForCertificate(certHash)) === id;
  }

  async exportEnrollments(options?: PageOptions): Promise<Page<EnrollmentExport>> {
    const limit = pageSize(options);
    return this.#read(() => {
      const rows = (
        options?.after === undefined
          ? this.#stmt('SELECT * FROM enrollments ORDER BY id LIMIT ?').all(limit + 1)
          : this.#stmt('SELECT * FROM enrollments WHERE id > ? ORDER BY id LIMIT ?').all(
              options.after,
              limit + 1,
            )
      ) as Row[];
      const page = rows.slice(0, limit);
      const ids = JSON.stringify(page.map((r) => r.id));
      const hashes = new Map<string, string[]>();
      for (const h of this.#stmt(
        'SELECT cert_hash, enrollment_id FROM cert_associations WHERE enrollment_id IN (SELECT value FROM json_each(?)) ORDER BY cert_hash',
      ).all(ids) as Row[]) {
        const list = hashes.get(h.enrollment_id as string) ?? [];
        list.push(h.cert_hash as string);
        hashes.set(h.enrollment_id as string, list);
      }
      const items = page.map((r) => {
        const out: EnrollmentExport = {
          enrollment: this.#toRecord(r),
          certificateHashes: hashes.get(r.id as string) ?? [],
        };
        if (r.bootstrap_token != null) out.bootstrapToken = u8(r.bootstrap_token);
        return out;
      });
      return rows.length > limit ? { items, next: page[page.length - 1]!.id as string } : { items };
    });
  }

  async importEnrollments(items: EnrollmentExport[]): Promise<number> {
    for (const it of items) {
      this.#key('enrollment id', it.enrollment?.id);
      this.#key('device id', it.enrollment.deviceId);
      checkDate('createdAt', it.enrollment.createdAt);
      checkDate('updatedAt', it.enrollment.updatedAt);
      checkDate('lastSeenAt', it.enrollment.lastSeenAt, true);
      checkBytes('bootstrap token', it.bootstrapToken, this.#limits.maxBlobBytes);
      checkBytes('unlock token', it.enrollment.unlockToken, this.#limits.maxBlobBytes);
      for (const h of it.certificateHashes ?? []) this.#key('certificate hash', h);
    }
    return this.#write(() => {
      const owner = this.#stmt('SELECT enrollment_id FROM cert_associations WHERE cert_hash = ?');
      for (const it of items) {
        for (const h of it.certificateHashes ?? []) {
          const row = owner.get(h) as Row | undefined;
          if (row && row.enrollment_id !== it.enrollment.id) {
            throw new StorageError('CONFLICT', 'certificate is already associated with another enrollment');
          }
        }
      }
      const upsert = this.#stmt(
        `INSERT INTO enrollments (id, channel, device_id, serial_number, user_id, user_short_name, user_long_name, topic,
           push_token, push_magic, unlock_token, enabled, token_update_tally, last_seen_at, bootstrap_token, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, device_id = excluded.device_id,
           serial_number = excluded.serial_number, user_id = excluded.user_id, user_short_name = excluded.user_short_name,
           user_long_name = excluded.user_long_name, topic = excluded.topic, push_token = excluded.push_token,
           push_magic = excluded.push_magic, unlock_token = excluded.unlock_token, enabled = excluded.enabled,
           token_update_tally = excluded.token_update_tally, last_seen_at = excluded.last_seen_at,
           bootstrap_token = COALESCE(excluded.bootstrap_token, bootstrap_token), created_at = excluded.created_at,
           updated_at = excluded.updated_at`,
      );
      const bind = this.#stmt(
        'INSERT INTO cert_associations (cert_hash, enrollment_id, created_at) VALUES (?, ?, ?) ON CONFLICT (cert_hash) DO NOTHING',
      );
      const now = Date.now();
      for (const { enrollment: e, bootstrapToken, certificateHashes } of items) {
        upsert.run(
          e.id,
          e.channel === 'user' ? 'user' : 'device',
          e.deviceId,
          e.serialNumber ?? null,
          e.userId ?? null,
          e.userShortName ?? null,
          e.userLongName ?? null,
          e.topic ?? null,
          e.pushToken ?? null,
          e.pushMagic ?? null,
          buf(e.unlockToken),
          e.enabled ? 1 : 0,
          e.tokenUpdateTally ?? 0,
          ms(e.lastSeenAt),
          buf(bootstrapToken),
          e.createdAt.getTime(),
          e.updatedAt.getTime(),
        );
        for (const h of certificateHashes ?? []) bind.run(h, e.id, now);
      }
      return items.length;
    });
  }

  // ---- queries ----

  async listEnrollments(filter: EnrollmentFilter = {}): Promise<Page<EnrollmentRecord>> {
    this.#check();
    const limit = pageSize(filter);
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.after !== undefined) {
      where.push('id > ?');
      args.push(filter.after);
    }
    if (filter.ids) {
      where.push('id IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(filter.ids));
    }
    if (filter.idPrefix !== undefined) {
      // the range uses the primary key; the substr test makes it exact
      where.push('id >= ? AND id < ? || char(1114111) AND substr(id, 1, length(?)) = ?');
      args.push(filter.idPrefix, filter.idPrefix, filter.idPrefix, filter.idPrefix);
    }
    if (filter.serialNumber !== undefined) {
      where.push('serial_number = ?');
      args.push(filter.serialNumber);
    }
    if (filter.channel !== undefined) {
      where.push('channel = ?');
      args.push(filter.channel);
    }
    if (filter.enabled !== undefined) {
      where.push('enabled = ?');
      args.push(filter.enabled ? 1 : 0);
    }
    if (filter.lastSeenBefore !== undefined) {
      checkDate('lastSeenBefore', filter.lastSeenBefore);
      where.push('(last_seen_at IS NULL OR last_seen_at < ?)');
      args.push(filter.lastSeenBefore.getTime());
    }
    if (filter.lastSeenAfter !== undefined) {
      checkDate('lastSeenAfter', filter.lastSeenAfter);
      where.push('last_seen_at >= ?');
      args.push(filter.lastSeenAfter.getTime());
    }
    const sql = `SELECT ${ENROLLMENT_COLUMNS} FROM enrollments${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`;
    const rows = this.#stmt(sql).all(...args, limit + 1) as Row[];
    const items = rows.slice(0, limit).map((r) => this.#toRecord(r));
    return rows.length > limit ? { items, next: items[items.length - 1]!.id } : { items };
  }

  async getPushInfo(ids: EnrollmentId[]): Promise<PushInfo[]> {
    this.#check();
    if (ids.length === 0) return [];
    const rows = this.#stmt(
      `SELECT id, topic, push_token, push_magic FROM enrollments
       WHERE id IN (SELECT value FROM json_each(?)) AND enabled = 1
         AND topic IS NOT NULL AND push_token IS NOT NULL AND push_magic IS NOT NULL ORDER BY id`,
    ).all(JSON.stringify(ids)) as Row[];
    return rows.map((r) => ({
      id: r.id as string,
      topic: r.topic as string,
      pushToken: r.push_token as string,
      pushMagic: r.push_magic as string,
    }));
  }

  // ---- command queue ----

  async enqueueCommand(command: CommandInput, enrollmentIds: EnrollmentId[]): Promise<void> {
    const ids = checkCommand(command, enrollmentIds, this.#limits);
    const priority = checkPriority(command.priority);
    await this.#write(() => {
      if (this.#stmt('SELECT 1 FROM commands WHERE uuid = ?').get(command.uuid)) {
        throw new StorageError('CONFLICT', 'command uuid already exists');
      }
      const seq = this.#stmt(
        `INSERT INTO commands (uuid, request_type, payload, priority, not_before, expires_at, enqueued_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        command.uuid,
        command.requestType,
        buf(command.payload),
        priority,
        ms(command.notBefore),
        ms(command.expiresAt),
        Date.now(),
      ).lastInsertRowid;
      // one statement for the whole fan-out instead of one native call per enrollment
      this.#stmt(
        'INSERT INTO queue (enrollment_id, command_seq, priority) SELECT value, ?, ? FROM json_each(?)',
      ).run(seq, priority, JSON.stringify(ids));
    });
  }

  #toCommand(r: Row): QueuedCommand {
    const c: QueuedCommand = {
      uuid: r.uuid as string,
      requestType: r.request_type as string,
      payload: u8(r.payload),
      priority: r.priority as number,
      enqueuedAt: date(r.enqueued_at),
    };
    if (r.not_before != null) c.notBefore = date(r.not_before);
    if (r.expires_at != null) c.expiresAt = date(r.expires_at);
    return c;
  }

  #pick(id: string, skipNotNow: boolean, now: number): QueuedCommand | undefined {
    const row = this.#stmt(
      `SELECT c.uuid, c.request_type, c.payload, c.priority, c.not_before, c.expires_at, c.enqueued_at
       FROM queue q JOIN commands c ON c.seq = q.command_seq
       WHERE q.enrollment_id = ? AND (? = 0 OR q.last_status IS NULL)
         AND (c.not_before IS NULL OR c.not_before <= ?) AND (c.expires_at IS NULL OR c.expires_at > ?)
       ORDER BY q.priority DESC, q.command_seq LIMIT 1`,
    ).get(id, skipNotNow ? 1 : 0, now, now) as Row | undefined;
    return row ? this.#toCommand(row) : undefined;
  }

  async nextCommand(id: EnrollmentId, options: NextCommandOptions = {}): Promise<QueuedCommand | undefined> {
    this.#key('enrollment id', id);
    checkDate('now', options.now, true);
    this.#check();
    return this.#pick(id, options.skipNotNow ?? false, (options.now ?? new Date()).getTime());
  }

  async recordResult(report: CommandReport, options: { now?: Date } = {}): Promise<RecordResultResponse> {
    const uuid = checkReport(report, this.#limits);
    checkDate('now', options.now, true);
    const now = (options.now ?? new Date()).getTime();
    const id = report.enrollmentId;
    const skip = report.status === 'NotNow';
    const respond = (outcome: RecordResultResponse['outcome']): RecordResultResponse => {
      const next = this.#pick(id, skip, now);
      return next ? { outcome, next } : { outcome };
    };
    const events = checkOutboxEvents(this.#limits, report.outbox);
    if (uuid === undefined) {
      this.#check();
      if (events.length > 0) await this.#write(() => insertOutbox(this.#io, events));
      return respond('idle');
    }
    return this.#write(() => {
      insertOutbox(this.#io, events);
      const cmd = this.#stmt('SELECT seq FROM commands WHERE uuid = ?').get(uuid) as Row | undefined;
      if (!cmd) return respond('unknown');
      const seq = cmd.seq as number;
      if (report.status === 'NotNow') {
        const changed = this.#stmt(
          `UPDATE queue SET last_status = 'NotNow', not_now_count = not_now_count + 1, last_status_at = ?
           WHERE enrollment_id = ? AND command_seq = ?`,
        ).run(now, id, seq).changes;
        if (changed === 1) return respond('stored');
      } else {
        const changed = this.#stmt('DELETE FROM queue WHERE enrollment_id = ? AND command_seq = ?').run(
          id,
          seq,
        ).changes;
        if (changed === 1) {
          this.#stmt(
            'INSERT INTO results (enrollment_id, command_seq, status, payload, received_at) VALUES (?, ?, ?, ?, ?)',
          ).run(id, seq, report.status, buf(report.payload ?? new Uint8Array()), now);
          return respond('stored');
        }
      }
      const done = this.#stmt('SELECT 1 FROM results WHERE enrollment_id = ? AND command_seq = ?').get(
        id,
        seq,
      );
      return respond(done ? 'duplicate' : 'unknown');
    });
  }

  async listQueue(id: EnrollmentId): Promise<QueueEntry[]> {
    this.#check();
    const rows = this.#stmt(
      `SELECT c.uuid, c.request_type, c.payload, c.priority, c.not_before, c.expires_at, c.enqueued_at,
         q.last_status, q.not_now_count, q.last_status_at
       FROM queue q JOIN commands c ON c.seq = q.command_seq
       WHERE q.enrollment_id = ? ORDER BY q.priority DESC, q.command_seq`,
    ).all(id) as Row[];
    return rows.map((r) => {
      const e: QueueEntry = {
        ...this.#toCommand(r),
        enrollmentId: id,
        notNowCount: r.not_now_count as number,
      };
      if (r.last_status === 'NotNow') e.lastStatus = 'NotNow';
      if (r.last_status_at != null) e.lastStatusAt = date(r.last_status_at);
      return e;
    });
  }

  async clearQueue(id: EnrollmentId): Promise<number> {
    this.#key('enrollment id', id);
    return this.#write(() => this.#stmt('DELETE FROM queue WHERE enrollment_id = ?').run(id).changes);
  }

  #toResult(r: Row): CommandResult {
    return {
      enrollmentId: r.enrollment_id as string,
      commandUuid: r.uuid as string,
      requestType: r.request_type as string,
      status: r.status as FinalStatus,
      payload: u8(r.payload),
      receivedAt: date(r.received_at),
    };
  }

  async getResults(commandUuid: string): Promise<CommandResult[]> {
    this.#check();
    const rows = this.#stmt(
      `SELECT r.enrollment_id, c.uuid, c.request_type, r.status, r.payload, r.received_at
       FROM commands c JOIN results r ON r.command_seq = c.seq WHERE c.uuid = ? ORDER BY r.seq`,
    ).all(commandUuid) as Row[];
    return rows.map((r) => this.#toResult(r));
  }

  async listHistory(id: EnrollmentId, options?: PageOptions): Promise<Page<CommandResult>> {
    this.#check();
    const limit = pageSize(options);
    const before = options?.after !== undefined ? Number(options.after) : Number.MAX_SAFE_INTEGER;
    if (!Number.isFinite(before))
      throw new StorageError('INVALID_INPUT', 'after must come from a previous page');
    const rows = this.#stmt(
      `SELECT r.seq, r.enrollment_id, c.uuid, c.request_type, r.status, r.payload, r.received_at
       FROM results r JOIN commands c ON c.seq = r.command_seq
       WHERE r.enrollment_id = ? AND r.seq < ? ORDER BY r.seq DESC LIMIT ?`,
    ).all(id, before, limit + 1) as Row[];
    const page = rows.slice(0, limit);
    const items = page.map((r) => this.#toResult(r));
    return rows.length > limit ? { items, next: String(page[page.length - 1]!.seq) } : { items };
  }

  async deleteFinishedCommands(before: Date): Promise<number> {
    checkDate('before', before);
    return this.#write(() => {
      const seqs = this.#stmt(
        `SELECT c.seq FROM commands c
         WHERE c.seq NOT IN (SELECT command_seq FROM queue)
           AND COALESCE((SELECT max(r.received_at) FROM results r WHERE r.command_seq = c.seq), c.enqueued_at) < ?`,
      )
        .all(before.getTime())
        .map((r) => (r as Row).seq);
      const delResults = this.#stmt('DELETE FROM results WHERE command_seq = ?');
      const delCommand = this.#stmt('DELETE FROM commands WHERE seq = ?');
      for (const seq of seqs) {
        delResults.run(seq);
        delCommand.run(seq);
      }
      return seqs.length;
    });
  }

  // ---- SCEP ----

  async #tidy(): Promise<void> {
    // expired challenges and nonces are removed now and then rather than on every call
    if (++this.#housekeeping % 1000 !== 0) return;
    const now = Date.now();
    await this.#write(() => {
      this.#stmt('DELETE FROM scep_nonces WHERE expires_at <= ?').run(now);
      this.#stmt('DELETE FROM scep_challenges WHERE expires_at <= ?').run(now);
    });
  }

  async putChallenge(challengeHash: string, expiresAt: Date): Promise<void> {
    this.#key('challenge hash', challengeHash);
    checkDate('expiresAt', expiresAt);
    await this.#write(() =>
      this.#stmt(
        'INSERT INTO scep_challenges (hash, expires_at) VALUES (?, ?) ON CONFLICT (hash) DO UPDATE SET expires_at = excluded.expires_at',
      ).run(challengeHash, expiresAt.getTime()),
    );
    await this.#tidy();
  }

  async consumeChallenge(challengeHash: string, now: Date = new Date()): Promise<boolean> {
    if (typeof challengeHash !== 'string') return false;
    const row = await this.#write(
      () =>
        this.#stmt('DELETE FROM scep_challenges WHERE hash = ? RETURNING expires_at').get(challengeHash) as
          | Row
          | undefined,
    );
    return row !== undefined && (row.expires_at as number) > now.getTime();
  }

  async recordSenderNonce(nonceHex: string, expiresAt: Date): Promise<boolean> {
    this.#key('sender nonce', nonceHex);
    checkDate('expiresAt', expiresAt);
    const gate = await SenderNonceBudget.for(this, this.#limits.maxSenderNonces).gate({
      countLive: async () =>
        (this.#stmt('SELECT count(*) AS n FROM scep_nonces WHERE expires_at > ?').get(Date.now()) as Row)
          .n as number,
      isLive: async () =>
        this.#stmt('SELECT 1 FROM scep_nonces WHERE nonce = ? AND expires_at > ?').get(
          nonceHex,
          Date.now(),
        ) !== undefined,
    });
    if (gate === 'replay') return false;
    const changed = await this.#write(
      () =>
        this.#stmt(
          `INSERT INTO scep_nonces (nonce, expires_at) VALUES (?, ?)
           ON CONFLICT (nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE scep_nonces.expires_at <= ?`,
        ).run(nonceHex, expiresAt.getTime(), Date.now()).changes,
    );
    await this.#tidy();
    return changed === 1;
  }

  async putIssuedCertificate(rec: IssuedCertificateRecord): Promise<void> {
    issuedValues(this.#limits, rec);
    await this.#write(() => {
      const changed = this.#stmt(
        `INSERT INTO scep_certificates (serial, subject, not_before, not_after, requester, der, issued_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (serial) DO NOTHING`,
      ).run(
        rec.serial,
        rec.subject,
        rec.notBefore.getTime(),
        rec.notAfter.getTime(),
        rec.requester ?? null,
        buf(rec.certificateDer),
        rec.issuedAt.getTime(),
      ).changes;
      if (changed === 0) throw new StorageError('CONFLICT', 'a certificate with this serial exists');
    });
  }

  #toIssued(r: Row): IssuedCertificateRecord {
    const rec: IssuedCertificateRecord = {
      serial: r.serial as string,
      subject: r.subject as string,
      notBefore: date(r.not_before),
      notAfter: date(r.not_after),
      certificateDer: u8(r.der),
      issuedAt: date(r.issued_at),
    };
    if (r.requester != null) rec.requester = r.requester as string;
    return rec;
  }

  async getIssuedCertificate(serialHex: string): Promise<IssuedCertificateRecord | undefined> {
    this.#check();
    const row = this.#stmt('SELECT * FROM scep_certificates WHERE serial = ?').get(serialHex) as
      | Row
      | undefined;
    return row ? this.#toIssued(row) : undefined;
  }

  async findIssuedCertificatesBySubject(subject: string): Promise<IssuedCertificateRecord[]> {
    this.#check();
    const rows = this.#stmt(
      'SELECT * FROM scep_certificates WHERE subject = ? ORDER BY issued_at, serial',
    ).all(subject) as Row[];
    return rows.map((r) => this.#toIssued(r));
  }

  // ---- push certificates ----

  #toPush(r: Row): StoredPushCert {
    return {
      topic: r.topic as string,
      certificatePem: r.certificate_pem as string,
      sealedKey: u8(r.sealed_key),
      version: String(r.version),
      updatedAt: date(r.updated_at),
    };
  }

  async getPushCert(topic: string): Promise<StoredPushCert | undefined> {
    this.#check();
    const row = this.#stmt('SELECT * FROM push_certs WHERE topic = ?').get(topic) as Row | undefined;
    return row ? this.#toPush(row) : undefined;
  }

  async putPushCert(rec: {
    topic: string;
    certificatePem: string;
    sealedKey: Uint8Array;
  }): Promise<StoredPushCert> {
    checkPushCert(this.#limits, rec);
    return this.#write(() => {
      const row = this.#stmt(
        `INSERT INTO push_certs (topic, certificate_pem, sealed_key, version, updated_at) VALUES (?, ?, ?, 1, ?)
         ON CONFLICT (topic) DO UPDATE SET certificate_pem = excluded.certificate_pem, sealed_key = excluded.sealed_key,
           version = push_certs.version + 1, updated_at = excluded.updated_at
         RETURNING *`,
      ).get(rec.topic, rec.certificatePem, buf(rec.sealedKey), Date.now()) as Row;
      return this.#toPush(row);
    });
  }

  async listPushCerts(): Promise<StoredPushCert[]> {
    this.#check();
    return (this.#stmt('SELECT * FROM push_certs ORDER BY topic').all() as Row[]).map((r) => this.#toPush(r));
  }

  // ---- leases ----

  async acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    now: Date = new Date(),
  ): Promise<Lease | undefined> {
    checkAcquire(this.#limits, name, holder, ttlMs, now);
    const t = now.getTime();
    return this.#write(() => {
      const row = this.#stmt('SELECT holder, token, expires_at FROM leases WHERE name = ?').get(name) as
        | Row
        | undefined;
      const expiresAt = t + ttlMs;
      if (row && row.holder != null && (row.expires_at as number) > t) {
        if (row.holder !== holder) return undefined;
        this.#stmt('UPDATE leases SET expires_at = ? WHERE name = ?').run(expiresAt, name);
        return { name, holder, token: row.token as number, expiresAt: new Date(expiresAt) };
      }
      const token = ((row?.token as number | undefined) ?? 0) + 1;
      this.#stmt(
        `INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at`,
      ).run(name, holder, token, expiresAt);
      return { name, holder, token, expiresAt: new Date(expiresAt) };
    });
  }

  async renewLease(lease: Lease, ttlMs: number, now: Date = new Date()): Promise<Lease | undefined> {
    checkLease(this.#limits, lease, { ttlMs, now });
    const t = now.getTime();
    const changed = await this.#write(
      () =>
        this.#stmt(
          'UPDATE leases SET expires_at = ? WHERE name = ? AND token = ? AND holder = ? AND expires_at > ?',
        ).run(t + ttlMs, lease.name, lease.token, lease.holder, t).changes,
    );
    return changed === 1 ? { ...lease, expiresAt: new Date(t + ttlMs) } : undefined;
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    checkLease(this.#limits, lease);
    const changed = await this.#write(
      () =>
        this.#stmt(
          'UPDATE leases SET holder = NULL, expires_at = 0 WHERE name = ? AND token = ? AND holder = ?',
        ).run(lease.name, lease.token, lease.holder).changes,
    );
    return changed === 1;
  }

  async getLease(name: string, now: Date = new Date()): Promise<Lease | undefined> {
    this.#check();
    const row = this.#stmt('SELECT holder, token, expires_at FROM leases WHERE name = ?').get(name) as
      | Row
      | undefined;
    if (!row || row.holder == null || (row.expires_at as number) <= now.getTime()) return undefined;
    return {
      name,
      holder: row.holder as string,
      token: row.token as number,
      expiresAt: date(row.expires_at),
    };
  }

  async writeJobState(name: string, token: number, state: string): Promise<void> {
    this.#key('lease name', name);
    if (typeof state !== 'string') throw new StorageError('INVALID_INPUT', 'job state must be a string');
    if (state.length > this.#limits.maxBlobBytes) {
      throw new StorageError(
        'PAYLOAD_TOO_LARGE',
        `job state exceeds ${this.#limits.maxBlobBytes} characters`,
      );
    }
    await this.#write(() => {
      const row = this.#stmt('SELECT token FROM leases WHERE name = ?').get(name) as Row | undefined;
      if (!row || row.token !== token)
        throw new StorageError('FENCED', 'fencing token is not the current one');
      this.#stmt(
        `INSERT INTO job_state (name, state, token, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET state = excluded.state, token = excluded.token, updated_at = excluded.updated_at`,
      ).run(name, state, token, Date.now());
    });
  }

  async readJobState(name: string): Promise<JobState | undefined> {
    this.#check();
    const row = this.#stmt('SELECT * FROM job_state WHERE name = ?').get(name) as Row | undefined;
    if (!row) return undefined;
    return { name, state: row.state as string, token: row.token as number, updatedAt: date(row.updated_at) };
  }
}

// Reads run outside #write; give their driver errors (I/O, corruption) the same StorageError mapping,
// and wait for a lock that keeps readers out (another connection's EXCLUSIVE lock outside WAL mode,
// WAL recovery) the way writes do: short attempts, asynchronous backoff, busyTimeoutMs in total. Only
// a driver error is retried: a write these methods make inside #write settles with a StorageError.
const reads = [
  'getEnrollment',
  'getBootstrapToken',
  'enrollmentForCertificate',
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
for (const name of reads) {
  const original = SqliteStorage.prototype[name] as (...args: unknown[]) => Promise<unknown>;
  Object.defineProperty(SqliteStorage.prototype, name, {
    configurable: true,
    writable: true,
    value: async function (this: SqliteStorage, ...args: unknown[]) {
      try {
        return await withRetry(
          () => original.apply(this, args),
          isBusy,
          lockRetry(busyTimeouts.get(this) ?? DEFAULT_BUSY_TIMEOUT_MS),
        );
      } catch (e) {
        throw mapSqliteError(e, this.path);
      }
    },
  });
}
