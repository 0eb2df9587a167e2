import { type MigrationDriver, type MigrationReport, runMigrations } from '@mdmkit/storage';
import type pg from 'pg';
import { type PgDatabase, transaction } from './pool';
import { withFeatureMigrations } from '@mdmkit/storage/sql';
import { postgresFeatureMigrations } from './feature-schema';
import { postgresMigrations } from './schema';

// Fixed first half of the advisory-lock key, so mdmkit's lock does not collide with other
// applications' advisory locks in the same database; the second half is derived from the schema.
const lockClass = 0x6d646d;

function driver(db: PgDatabase): MigrationDriver<string[]> {
  let locked: pg.PoolClient | undefined;
  const holder = (): pg.PoolClient => {
    if (!locked) throw new Error('migration step outside the migration lock');
    return locked;
  };
  return {
    async ensureTable() {
      // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog, so take the lock first.
      await transaction(db, 'prepare migrations', async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [lockClass, db.schema]);
        await tx.query(`CREATE SCHEMA IF NOT EXISTS ${db.schema}`);
        await tx.query(
          `CREATE TABLE IF NOT EXISTS ${db.schema}.mdmkit_migrations (
             version integer PRIMARY KEY,
             name text NOT NULL,
             applied_at timestamptz NOT NULL)`,
        );
      });
    },
    async exclusive(fn) {
      const client = await db.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [lockClass, db.schema]);
        locked = client;
        try {
          return await fn();
        } finally {
          locked = undefined;
          await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [lockClass, db.schema]);
        }
      } catch (e) {
        // A dropped connection releases the session lock on the server; never reuse such a client.
        broken = e instanceof Error ? e : new Error(String(e));
        throw e;
      } finally {
        client.release(broken ?? false);
      }
    },
    async applied() {
      const { rows } = await holder().query<{ version: number; name: string; applied_at: Date }>(
        `SELECT version, name, applied_at FROM ${db.schema}.mdmkit_migrations`,
      );
      return rows.map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at }));
    },
    async apply(migration) {
      // PostgreSQL's DDL is transactional: a failing step leaves neither tables nor a version row.
      const client = holder();
      await client.query('BEGIN');
      try {
        for (const statement of migration.up) await client.query(statement);
        await client.query(
          `INSERT INTO ${db.schema}.mdmkit_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
          [migration.version, migration.name, new Date()],
        );
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
  };
}

/**
 * Brings the schema to the newest version. Several replicas starting at once serialise on a
 * PostgreSQL advisory lock: one applies the pending versions, the others wait and find them applied.
 */
export function migratePostgres(db: PgDatabase): Promise<MigrationReport> {
  return runMigrations(driver(db), withFeatureMigrations(postgresMigrations, postgresFeatureMigrations));
}
