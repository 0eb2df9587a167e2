// Per-feature schema versions: each optional store (DEP, secrets, audit, outbox) registers its own migrations
// per dialect, and `migrate()` applies them after the core ones, through the same lock and table.
import { StorageError } from '../errors';
import type { Migration } from '../migrations';

/** The optional stores that carry their own schema. */
export type SqlFeature = 'dep' | 'secrets' | 'audit' | 'outbox' | 'lifecycle';

/**
 * Each feature owns a block of 1000 version numbers in the dialect's one migrations table, so a
 * feature's versions never collide with the core's (1–999) or another feature's, and the table's
 * existing lock makes racing `migrate()` calls safe for features as it does for the core.
 */
const FEATURE_BASE: Readonly<Record<SqlFeature, number>> = {
  dep: 1000,
  secrets: 2000,
  audit: 3000,
  outbox: 4000,
  lifecycle: 5000,
};

/** A feature's migrations for one dialect; `version` counts from 1 within the feature. */
export interface FeatureMigrations<C> {
  feature: SqlFeature;
  migrations: readonly Migration<C>[];
}

/**
 * The dialect's full migration list: the core list unchanged, then every feature's migrations with
 * their versions moved into the feature's block and their names prefixed with the feature, in
 * version order. Throws MIGRATION_FAILED for a feature listed twice or a version outside 1–999.
 *
 * @example
 * ```ts
 * import { withFeatureMigrations } from '@mdmkit/storage/sql';
 * const all = withFeatureMigrations(
 *   [{ version: 1, name: 'core', up: ['CREATE TABLE t (id text)'] }],
 *   [{ feature: 'dep', migrations: [{ version: 1, name: 'tokens', up: ['CREATE TABLE dep_tokens (name text)'] }] }],
 * );
 * console.log(all.map((m) => `${m.version} ${m.name}`)); // ['1 core', '1001 dep: tokens']
 * ```
 */
export function withFeatureMigrations<C>(
  core: readonly Migration<C>[],
  features: readonly FeatureMigrations<C>[],
): Migration<C>[] {
  const seen = new Set<SqlFeature>();
  const out: Migration<C>[] = [...core];
  for (const f of features) {
    if (seen.has(f.feature)) {
      throw new StorageError('MIGRATION_FAILED', `feature ${f.feature} registered twice`);
    }
    seen.add(f.feature);
    const base = FEATURE_BASE[f.feature];
    for (const m of f.migrations) {
      if (!Number.isSafeInteger(m.version) || m.version < 1 || m.version > 999) {
        throw new StorageError(
          'MIGRATION_FAILED',
          `${f.feature} migration version ${m.version} is not in 1..999`,
        );
      }
      out.push({ version: base + m.version, name: `${f.feature}: ${m.name}`, up: m.up });
    }
  }
  for (const m of core) {
    if (m.version >= FEATURE_BASE.dep) {
      throw new StorageError('MIGRATION_FAILED', `core migration ${m.version} is in the feature range`);
    }
  }
  return out.sort((a, b) => a.version - b.version);
}
