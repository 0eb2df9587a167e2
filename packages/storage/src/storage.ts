import { StorageError } from './errors';
import type { EnrollmentStore } from './enrollment';
import type { LeaseStore } from './lease';
import type { MigrationReport } from './migrations';
import type { PushCertStore } from './push-cert';
import type { EnrollmentQueries } from './queries';
import type { CommandQueue } from './queue';
import type { ScepStore } from './scep';

/** Lifecycle shared by every adapter. */
export interface StorageLifecycle extends SchemaMigrator, Closable {}

/**
 * Bringing the schema up to date.
 *
 * @example
 * ```ts
 * import type { SchemaMigrator } from '@mdmkit/storage';
 * const upgrade = async (m: SchemaMigrator) => (await m.migrate()).applied;
 * ```
 */
export interface SchemaMigrator {
  /** Brings the schema to the newest version; safe when several replicas call it at once. */
  migrate(): Promise<MigrationReport>;
}

/**
 * Releasing connections.
 *
 * @example
 * ```ts
 * import type { Closable } from '@mdmkit/storage';
 * const shutdown = (c: Closable) => c.close();
 * ```
 */
export interface Closable {
  /** Releases connections. Later calls throw CLOSED. Idempotent. */
  close(): Promise<void>;
}

/**
 * Everything an mdmkit server keeps. Every adapter (`MemoryStorage`, `@mdmkit/storage-sqlite`,
 * `-postgres`, `-mysql`) implements all of it; blocks that need less take the narrow interface.
 *
 * @example
 * ```ts
 * import type { MdmStorage } from '@mdmkit/storage';
 * import { MemoryStorage } from '@mdmkit/storage';
 * const storage: MdmStorage = new MemoryStorage();
 * ```
 */
export interface MdmStorage
  extends EnrollmentStore,
    CommandQueue,
    EnrollmentQueries,
    ScepStore,
    PushCertStore,
    LeaseStore,
    StorageLifecycle {}

/** Options every adapter accepts. */
export interface CommonStorageOptions {
  /** Minimum time between two last-seen writes for one enrollment. Default 60 000 ms. */
  lastSeenIntervalMs?: number;
  /** Size limits; see DEFAULT_STORAGE_LIMITS. */
  limits?: Partial<import('./limits').StorageLimits>;
}

/** Default for {@link CommonStorageOptions.lastSeenIntervalMs}. */
export const DEFAULT_LAST_SEEN_INTERVAL_MS = 60_000;

/**
 * The last-seen coalescing interval an adapter uses: the option, or the default. Every adapter
 * resolves it here so that all of them accept and reject the same values.
 *
 * @example
 * ```ts
 * const interval = resolveLastSeenInterval({ lastSeenIntervalMs: 30_000 }); // 30000
 * ```
 */
export function resolveLastSeenInterval(options: CommonStorageOptions): number {
  const interval = options.lastSeenIntervalMs ?? DEFAULT_LAST_SEEN_INTERVAL_MS;
  if (typeof interval !== 'number' || !(interval >= 0)) {
    throw new StorageError('INVALID_INPUT', 'lastSeenIntervalMs must be a non-negative number');
  }
  return interval;
}
