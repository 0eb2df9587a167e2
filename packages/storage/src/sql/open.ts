// What every SQL adapter does when it opens: the context from the common options, and the
// migrate-on-open step that closes the connections again when the migration fails.
import { resolveLimits } from '../limits';
import { type CommonStorageOptions, resolveLastSeenInterval } from '../storage';
import type { SqlContext } from './context';

/**
 * The context of a dialect on database handle `db`, from the options every adapter takes.
 *
 * @example
 * ```ts
 * super({ ctx: sqlContext(db, options), operations, stores, migrate, close });
 * ```
 */
export function sqlContext<Db>(db: Db, options: CommonStorageOptions = {}): SqlContext<Db> {
  return {
    db,
    limits: resolveLimits(options.limits),
    lastSeenIntervalMs: resolveLastSeenInterval(options),
    lastSeenWritten: new Map(),
  };
}

/**
 * Migrates a newly opened storage unless `options.migrate` is false, and closes it when the
 * migration fails so that no connection is left open behind the error.
 *
 * @example
 * ```ts
 * return migrated(new MyStorage(await openDatabase(options), options), options);
 * ```
 */
export async function migrated<S extends { migrate(): Promise<unknown>; close(): Promise<void> }>(
  storage: S,
  options: { migrate?: boolean },
): Promise<S> {
  if (options.migrate === false) return storage;
  try {
    await storage.migrate();
  } catch (e) {
    await storage.close();
    throw e;
  }
  return storage;
}
