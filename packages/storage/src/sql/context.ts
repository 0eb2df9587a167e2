import type { StorageLimits } from '../limits';

/**
 * What every dialect's operation functions receive: the dialect's database handle plus the state the
 * core keeps for it. A dialect may extend it with its own fields.
 *
 * @example
 * ```ts
 * import type { SqlContext } from '@mdmkit/storage/sql';
 * interface MyCtx extends SqlContext<{ query(sql: string): Promise<unknown[]> }> {}
 * ```
 */
export interface SqlContext<Db> {
  readonly db: Db;
  readonly limits: StorageLimits;
  /** Minimum time between two last-seen writes for one enrollment (ms). */
  readonly lastSeenIntervalMs: number;
  /** Enrollment id → last-seen time this process last wrote (ms), to skip redundant writes without a query. */
  readonly lastSeenWritten: Map<string, number>;
}
