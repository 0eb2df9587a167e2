import { type MigrationDriver, type MigrationReport, runMigrations } from '@mdmkit/storage';
import { withFeatureMigrations } from '@mdmkit/storage/sql';
import type { Ctx, Db } from './context';
import { isBusy } from './errors';
import { sqliteFeatureMigrations } from './feature-schema';
import type { Row } from './io';
import { sqliteMigrations } from './schema';
import { date } from './values';

const migrationLocks = new WeakMap<Db, Promise<void>>();

/**
 * Applies the SQLite migrations (core schema and feature tables) under `BEGIN IMMEDIATE`.
 *
 * @example
 * ```ts
 * const report = await migrateSqlite(ctx);
 * ```
 */
export async function migrateSqlite(ctx: Ctx): Promise<MigrationReport> {
  ctx.check();
  const db = ctx.db;
  // A lock held across awaits must never be waited for synchronously by another connection in
  // this same thread (it could never be released), so the migration lock is polled instead.
  const polled = async <T>(fn: () => T): Promise<T> => {
    const deadline = Date.now() + Math.max(ctx.busyTimeoutMs, 30_000);
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
      db.pragma(`busy_timeout = ${ctx.lockSlice}`);
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
    ctx.clearStatements();
  }
}
