/** A held lease. `token` grows by one every time the lease changes hands (a fencing token). */
export interface Lease {
  name: string;
  holder: string;
  token: number;
  expiresAt: Date;
}

/** Job state written under a lease. */
export interface JobState {
  name: string;
  /** Opaque to storage; JSON is typical. */
  state: string;
  /** The fencing token the write presented. */
  token: number;
  updatedAt: Date;
}

/**
 * Leases for background jobs shared by several replicas, with fencing: job-state writes carry the
 * lease's token, and a write with a token older than the newest one handed out fails with FENCED,
 * so a paused former holder cannot overwrite newer state.
 *
 * @example
 * ```ts
 * const lease = await storage.acquireLease('dep-sync', replicaId, 30_000);
 * if (lease) {
 *   await storage.writeJobState('dep-sync', lease.token, JSON.stringify({ cursor }));
 *   await storage.releaseLease(lease);
 * }
 * ```
 */
export interface LeaseStore extends JobLeases, FencedJobState {}

/**
 * Taking, keeping and giving up named leases.
 *
 * @example
 * ```ts
 * import type { JobLeases } from '@mdmkit/storage';
 * const holder = async (l: JobLeases, name: string) => (await l.getLease(name))?.holder;
 * ```
 */
export interface JobLeases {
  /**
   * Takes the lease if it is free or expired (new token), or extends it if `holder` already holds it
   * (same token). Returns undefined while another holder's lease is live.
   */
  acquireLease(name: string, holder: string, ttlMs: number, now?: Date): Promise<Lease | undefined>;
  /** Extends a lease still held with this token; undefined if it was lost. */
  renewLease(lease: Lease, ttlMs: number, now?: Date): Promise<Lease | undefined>;
  /** Gives the lease up if still held with this token; returns whether it was. */
  releaseLease(lease: Lease): Promise<boolean>;
  /** The current lease, if held and unexpired. */
  getLease(name: string, now?: Date): Promise<Lease | undefined>;
}

/**
 * Job state guarded by lease tokens.
 *
 * @example
 * ```ts
 * import type { FencedJobState } from '@mdmkit/storage';
 * const cursorOf = async (s: FencedJobState, name: string) => (await s.readJobState(name))?.state;
 * ```
 */
export interface FencedJobState {
  /** Writes job state; throws FENCED when `token` is older than the newest token issued for `name`. */
  writeJobState(name: string, token: number, state: string): Promise<void>;
  readJobState(name: string): Promise<JobState | undefined>;
}
