import { StorageError } from './errors';

/**
 * One schema step. Versions are positive integers, strictly increasing in a list, never reused or
 * edited once released; `name` is recorded with the version and re-checked on every start so an edited
 * list is caught. `up` is adapter-specific: SQL text, several statements, or a function on the
 * adapter's connection type `C`.
 *
 * @example
 * ```ts
 * const migrations: Migration<string[]>[] = [
 *   { version: 1, name: 'enrollments', up: ['CREATE TABLE enrollments (id TEXT PRIMARY KEY)'] },
 *   { version: 2, name: 'enrollments serial', up: ['ALTER TABLE enrollments ADD COLUMN serial TEXT'] },
 * ];
 * ```
 */
export interface Migration<C = unknown> {
  version: number;
  name: string;
  up: C;
}

/** A row of the adapter's migrations table. */
export interface AppliedMigration {
  version: number;
  name: string;
  appliedAt: Date;
}

/** What {@link runMigrations} did. */
export interface MigrationReport {
  /** Versions applied by this call (empty when another replica already did the work). */
  applied: number[];
  /** Schema version after the call. */
  version: number;
}

/**
 * What an adapter provides so the shared runner can migrate it safely while several replicas start
 * at once. `exclusive` must hold a database-wide lock (SQLite `BEGIN IMMEDIATE`, PostgreSQL
 * `pg_advisory_lock`, MySQL `GET_LOCK`, or a lease row) for the duration of `fn`; the runner re-reads
 * the applied versions inside it, so replicas that waited find the work done.
 */
export interface MigrationDriver<C = unknown> {
  /** Creates the migrations table if missing. Must be safe to run concurrently (IF NOT EXISTS). */
  ensureTable(): Promise<void>;
  /** Runs `fn` while holding the migration lock. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Applied migrations, any order. */
  applied(): Promise<AppliedMigration[]>;
  /** Applies one migration and records it, atomically where the database allows DDL in transactions. */
  apply(migration: Migration<C>): Promise<void>;
}

/**
 * Throws MIGRATION_FAILED unless versions are positive integers, strictly increasing, and names non-empty.
 *
 * @example
 * ```ts
 * validateMigrations([{ version: 1, name: 'initial', up: 'CREATE TABLE t (id TEXT)' }]);
 * ```
 */
export function validateMigrations(migrations: readonly Migration<unknown>[]): void {
  let prev = 0;
  for (const m of migrations) {
    if (!Number.isSafeInteger(m.version) || m.version <= prev) {
      throw new StorageError(
        'MIGRATION_FAILED',
        `migration versions must be positive integers in strictly increasing order (got ${m.version} after ${prev})`,
      );
    }
    if (typeof m.name !== 'string' || m.name.length === 0) {
      throw new StorageError('MIGRATION_FAILED', `migration ${m.version} has no name`);
    }
    prev = m.version;
  }
}

/**
 * Brings a database to the newest version in `migrations`. Safe to call from several processes at
 * once: only the lock holder applies anything; the others wait, re-read and find nothing to do.
 * Throws MIGRATION_FAILED when the database has a version this list does not know (newer code ran
 * against it) or a recorded name differs from the list's.
 *
 * @example
 * ```ts
 * const report = await runMigrations(driver, migrations);
 * console.log(`schema at v${report.version}, applied ${report.applied.join(',') || 'nothing'}`);
 * ```
 */
export async function runMigrations<C>(
  driver: MigrationDriver<C>,
  migrations: readonly Migration<C>[],
): Promise<MigrationReport> {
  validateMigrations(migrations);
  try {
    await driver.ensureTable();
    return await driver.exclusive(async () => {
      const applied = await driver.applied();
      const byVersion = new Map(applied.map((a) => [a.version, a]));
      const known = new Map(migrations.map((m) => [m.version, m]));
      for (const a of applied) {
        const m = known.get(a.version);
        if (!m) {
          throw new StorageError(
            'MIGRATION_FAILED',
            `database has schema version ${a.version} which this code does not know; upgrade the code`,
          );
        }
        if (m.name !== a.name) {
          throw new StorageError(
            'MIGRATION_FAILED',
            `migration ${a.version} was applied as "${a.name}" but is now named "${m.name}"`,
          );
        }
      }
      const done: number[] = [];
      for (const m of migrations) {
        if (byVersion.has(m.version)) continue;
        try {
          await driver.apply(m);
        } catch (e) {
          throw new StorageError('MIGRATION_FAILED', `migration ${m.version} (${m.name}) failed`, {
            cause: e,
          });
        }
        done.push(m.version);
      }
      const version = migrations.length ? migrations[migrations.length - 1]!.version : 0;
      return { applied: done, version };
    });
  } catch (e) {
    if (e instanceof StorageError) throw e;
    throw new StorageError('MIGRATION_FAILED', 'schema migration failed', { cause: e });
  }
}
