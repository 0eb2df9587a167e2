import { createHash } from 'node:crypto';
import { type MigrationDriver, type MigrationReport, runMigrations, StorageError } from '@mdmkit/storage';
import type mysql from 'mysql2/promise';
import type { MyDatabase } from './pool';
import { withFeatureMigrations } from '@mdmkit/storage/sql';
import { mysqlFeatureMigrations } from './feature-schema';
import { mysqlMigrations } from './schema';

/** How long a replica waits for another replica's migration before giving up, in seconds. */
const lockWaitSeconds = 300;

function driver(db: MyDatabase): MigrationDriver<string[]> {
  // GET_LOCK names are server-wide and at most 64 characters: derive one from the database name.
  const lockName = `mdmkit_migrate_${createHash('sha256').update(db.database).digest('hex').slice(0, 32)}`;
  let locked: mysql.PoolConnection | undefined;
  const holder = (): mysql.PoolConnection => {
    if (!locked) throw new Error('migration step outside the migration lock');
    return locked;
  };
  return {
    async ensureTable() {
      await db.pool.query(
        `CREATE TABLE IF NOT EXISTS mdmkit_migrations (
           version INT NOT NULL PRIMARY KEY,
           name VARCHAR(255) NOT NULL,
           applied_at DATETIME(3) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
      );
    },
    async exclusive(fn) {
      const conn = await db.pool.getConnection();
      let broken = false;
      try {
        const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS ok', [
          lockName,
          lockWaitSeconds,
        ]);
        if (Number(rows[0]?.ok) !== 1) {
          throw new StorageError(
            'MIGRATION_FAILED',
            `timed out waiting for the migration lock on ${db.database}`,
          );
        }
        locked = conn;
        try {
          return await fn();
        } finally {
          locked = undefined;
          await conn.query('SELECT RELEASE_LOCK(?)', [lockName]);
        }
      } catch (e) {
        // The server drops a named lock with its connection; never hand such a connection back.
        broken = true;
        throw e;
      } finally {
        if (broken) conn.destroy();
        else conn.release();
      }
    },
    async applied() {
      const [rows] = await holder().query<mysql.RowDataPacket[]>(
        'SELECT version, name, applied_at FROM mdmkit_migrations',
      );
      return rows.map((r) => ({
        version: Number(r.version),
        name: String(r.name),
        appliedAt: r.applied_at as Date,
      }));
    },
    async apply(migration) {
      // DDL commits implicitly in MySQL, so each statement is idempotent and the version row is
      // written last: a crash halfway re-runs the step on the next start.
      const conn = holder();
      for (const statement of migration.up) await conn.query(statement);
      await conn.query('INSERT INTO mdmkit_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        new Date(),
      ]);
    },
  };
}

/**
 * Brings the database to the newest version. Several replicas starting at once serialise on a
 * server-wide named lock (`GET_LOCK`): one applies the pending versions, the others wait and find
 * them applied.
 */
export function migrateMysql(db: MyDatabase): Promise<MigrationReport> {
  return runMigrations(driver(db), withFeatureMigrations(mysqlMigrations, mysqlFeatureMigrations));
}
