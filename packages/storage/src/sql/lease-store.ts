// Leases and fenced job state once for every SQL dialect: the checks, the acquire decision under the
// row lock, the fencing rule and the row mapping. A dialect hands in its statements (its upsert and
// its row-locking idioms) and its transaction runner.
import { StorageError } from '../errors';
import type { LeaseStore } from '../lease';
import { checkKey, type StorageLimits } from '../limits';
import { checkAcquire, checkLease, checkToken, decideAcquire } from './leases';
import type { WithContext } from './operations';
import { date } from './values';

/** A lease row as the drivers return it (tokens may come back as text). */
export interface LeaseRow {
  holder: string | null;
  token: number | string;
  expires_at: Date;
}

/** A job state row as the drivers return it. */
export interface JobStateRow {
  state: string;
  token: number | string;
  updated_at: Date;
}

/** The statements a dialect runs for leases and job state; every argument is already checked. */
export interface LeaseStatements<C, Tx> {
  /** Runs `fn` in one transaction (with the dialect's retries and error mapping). */
  transaction<T>(ctx: C, what: string, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Creates the lease row if it is missing (free, token 0), then reads it locked for update. */
  lockLease(tx: Tx, name: string): Promise<LeaseRow>;
  /** Writes the won lease on the locked row. */
  setLease(tx: Tx, name: string, holder: string, token: number, expiresAt: Date): Promise<void>;
  /** Moves the expiry of a live lease held with this holder and token; whether it was. */
  renew(ctx: C, name: string, holder: string, token: number, expiresAt: Date, now: Date): Promise<boolean>;
  /** Frees the lease held with this holder and token; whether it was. */
  release(ctx: C, name: string, holder: string, token: number): Promise<boolean>;
  /** The live lease row of `name`, if any. */
  readLease(ctx: C, name: string, now: Date): Promise<LeaseRow | undefined>;
  /**
   * The current token of lease `name` read under a shared lock, so an acquire (which bumps it) waits
   * for the job-state write to commit; undefined when the lease was never taken.
   */
  lockToken(tx: Tx, name: string): Promise<number | string | undefined>;
  /**
   * Stores the state unless a newer token already wrote it; whether it was stored (a dialect whose
   * upsert cannot tell may return true: the token check above already fenced the write).
   */
  writeState(tx: Tx, name: string, state: string, token: number, at: Date): Promise<boolean>;
  /** The stored job state row of `name`, if any. */
  readState(ctx: C, name: string): Promise<JobStateRow | undefined>;
}

/**
 * The {@link LeaseStore} operations on a dialect's statements.
 *
 * @example
 * ```ts
 * export const { acquireLease, renewLease, releaseLease, getLease, writeJobState, readJobState } =
 *   leaseStoreOf<Ctx, Tx>(statements);
 * ```
 */
export function leaseStoreOf<C extends { readonly limits: StorageLimits }, Tx>(
  s: LeaseStatements<C, Tx>,
): WithContext<C, LeaseStore> {
  return {
    // The row is created on first use and never deleted, so the token only grows; the decision is
    // made under the row lock, so two replicas can never both win.
    async acquireLease(ctx, name, holder, ttlMs, now = new Date()) {
      const expiresAt = checkAcquire(ctx.limits, name, holder, ttlMs, now);
      return s.transaction(ctx, 'acquireLease', async (tx) => {
        const won = decideAcquire(await s.lockLease(tx, name), name, holder, now, expiresAt);
        if (won) await s.setLease(tx, name, holder, won.token, expiresAt);
        return won;
      });
    },
    async renewLease(ctx, lease, ttlMs, now = new Date()) {
      const expiresAt = checkLease(ctx.limits, lease, { ttlMs, now }) as Date;
      const renewed = await s.renew(ctx, lease.name, lease.holder, lease.token, expiresAt, now);
      return renewed ? { name: lease.name, holder: lease.holder, token: lease.token, expiresAt } : undefined;
    },
    async releaseLease(ctx, lease) {
      checkLease(ctx.limits, lease);
      return s.release(ctx, lease.name, String(lease.holder), lease.token);
    },
    async getLease(ctx, name, now = new Date()) {
      checkKey('lease name', name, ctx.limits.maxKeyLength);
      date('now', now);
      const r = await s.readLease(ctx, name, now);
      return r
        ? { name, holder: r.holder as string, token: Number(r.token), expiresAt: r.expires_at }
        : undefined;
    },
    // Fenced: written only with the lease's current token.
    async writeJobState(ctx, name, token, state) {
      checkKey('job name', name, ctx.limits.maxKeyLength);
      checkToken(token);
      if (typeof state !== 'string') throw new StorageError('INVALID_INPUT', 'state must be a string');
      if (Buffer.byteLength(state) > ctx.limits.maxBlobBytes) {
        throw new StorageError(
          'PAYLOAD_TOO_LARGE',
          `job state is larger than ${ctx.limits.maxBlobBytes} bytes`,
        );
      }
      await s.transaction(ctx, 'writeJobState', async (tx) => {
        const current = await s.lockToken(tx, name);
        if (current === undefined || Number(current) !== token) {
          throw new StorageError(
            'FENCED',
            `token ${token} is not the current token of lease ${JSON.stringify(name)}`,
          );
        }
        if (!(await s.writeState(tx, name, state, token, new Date()))) {
          throw new StorageError(
            'FENCED',
            `job state ${JSON.stringify(name)} was written with a newer token`,
          );
        }
      });
    },
    async readJobState(ctx, name) {
      checkKey('job name', name, ctx.limits.maxKeyLength);
      const r = await s.readState(ctx, name);
      return r ? { name, state: r.state, token: Number(r.token), updatedAt: r.updated_at } : undefined;
    },
  };
}
