// Job leases with fencing tokens, and the job state they guard.
import { checkKey, type JobState, type Lease, StorageError } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import type { Row } from './io';

/**
 * Takes or extends a lease. Writes are serialised (`BEGIN IMMEDIATE`), so the read and the upsert
 * below see no other writer in between; the token only grows.
 */
export async function acquireLease(
  ctx: Ctx,
  name: string,
  holder: string,
  ttlMs: number,
  now: Date = new Date(),
): Promise<Lease | undefined> {
  const expiresAt = core.checkAcquire(ctx.limits, name, holder, ttlMs, now);
  return ctx.write(() => {
    const row = ctx.stmt('SELECT holder, token, expires_at FROM leases WHERE name = ?').get(name) as
      | { holder: string | null; token: number; expires_at: number }
      | undefined;
    const won = core.decideAcquire(
      row
        ? { ...row, expires_at: new Date(row.expires_at) }
        : { holder: null, token: 0, expires_at: new Date(0) },
      name,
      holder,
      now,
      expiresAt,
    );
    if (!won) return undefined;
    ctx
      .stmt(
        `INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at`,
      )
      .run(name, holder, won.token, expiresAt.getTime());
    return won;
  });
}

export async function renewLease(
  ctx: Ctx,
  lease: Lease,
  ttlMs: number,
  now: Date = new Date(),
): Promise<Lease | undefined> {
  const expiresAt = core.checkLease(ctx.limits, lease, { ttlMs, now })!;
  const t = now.getTime();
  const changed = await ctx.write(
    () =>
      ctx
        .stmt(
          'UPDATE leases SET expires_at = ? WHERE name = ? AND token = ? AND holder = ? AND expires_at > ?',
        )
        .run(expiresAt.getTime(), lease.name, lease.token, lease.holder, t).changes,
  );
  return changed === 1 ? { ...lease, expiresAt } : undefined;
}

export async function releaseLease(ctx: Ctx, lease: Lease): Promise<boolean> {
  core.checkLease(ctx.limits, lease);
  const changed = await ctx.write(
    () =>
      ctx
        .stmt('UPDATE leases SET holder = NULL, expires_at = 0 WHERE name = ? AND token = ? AND holder = ?')
        .run(lease.name, lease.token, lease.holder).changes,
  );
  return changed === 1;
}

export async function getLease(ctx: Ctx, name: string, now: Date = new Date()): Promise<Lease | undefined> {
  ctx.check();
  const row = ctx.stmt('SELECT holder, token, expires_at FROM leases WHERE name = ?').get(name) as
    | Row
    | undefined;
  if (!row || row.holder == null || (row.expires_at as number) <= now.getTime()) return undefined;
  return {
    name,
    holder: row.holder as string,
    token: row.token as number,
    expiresAt: new Date(row.expires_at as number),
  };
}

export async function writeJobState(ctx: Ctx, name: string, token: number, state: string): Promise<void> {
  checkKey('lease name', name, ctx.limits.maxKeyLength);
  if (typeof state !== 'string') throw new StorageError('INVALID_INPUT', 'job state must be a string');
  if (state.length > ctx.limits.maxBlobBytes) {
    throw new StorageError('PAYLOAD_TOO_LARGE', `job state exceeds ${ctx.limits.maxBlobBytes} characters`);
  }
  await ctx.write(() => {
    const row = ctx.stmt('SELECT token FROM leases WHERE name = ?').get(name) as Row | undefined;
    if (!row || row.token !== token) throw new StorageError('FENCED', 'fencing token is not the current one');
    ctx
      .stmt(
        `INSERT INTO job_state (name, state, token, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET state = excluded.state, token = excluded.token, updated_at = excluded.updated_at`,
      )
      .run(name, state, token, Date.now());
  });
}

export async function readJobState(ctx: Ctx, name: string): Promise<JobState | undefined> {
  ctx.check();
  const row = ctx.stmt('SELECT * FROM job_state WHERE name = ?').get(name) as Row | undefined;
  if (!row) return undefined;
  return {
    name,
    state: row.state as string,
    token: row.token as number,
    updatedAt: new Date(row.updated_at as number),
  };
}
