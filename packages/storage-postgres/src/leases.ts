import { checkKey, type JobState, type Lease, StorageError } from '@mdmkit/storage';
import { checkAcquire, checkLease, checkToken, decideAcquire } from '@mdmkit/storage/sql';
import { type Ctx, date } from './context';
import { query, transaction } from './pool';

interface LeaseRow {
  holder: string | null;
  token: string;
  expires_at: Date;
}

/**
 * Takes or extends a lease. The row is created on first use and never deleted, so the token only
 * grows; the decision is made under the row lock, so two replicas can never both win.
 */
export async function acquireLease(
  ctx: Ctx,
  name: string,
  holder: string,
  ttlMs: number,
  now: Date = new Date(),
): Promise<Lease | undefined> {
  const expiresAt = checkAcquire(ctx.limits, name, holder, ttlMs, now);
  return transaction(ctx.db, 'acquireLease', async (tx) => {
    await tx.query(
      `INSERT INTO leases (name, holder, token, expires_at) VALUES ($1, NULL, 0, 'epoch')
       ON CONFLICT (name) DO NOTHING`,
      [name],
    );
    const { rows } = await tx.query<LeaseRow>(
      'SELECT holder, token::text AS token, expires_at FROM leases WHERE name = $1 FOR UPDATE',
      [name],
    );
    const won = decideAcquire(rows[0]!, name, holder, now, expiresAt);
    if (!won) return undefined;
    const { token } = won;
    await tx.query('UPDATE leases SET holder = $2, token = $3, expires_at = $4 WHERE name = $1', [
      name,
      holder,
      token,
      expiresAt,
    ]);
    return won;
  });
}

export async function renewLease(
  ctx: Ctx,
  lease: Lease,
  ttlMs: number,
  now: Date = new Date(),
): Promise<Lease | undefined> {
  const expiresAt = checkLease(ctx.limits, lease, { ttlMs, now })!;
  const r = await query(
    ctx.db,
    'renewLease',
    `UPDATE leases SET expires_at = $4
     WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > $5`,
    [lease.name, lease.holder, lease.token, expiresAt, now],
  );
  return r.rowCount === 1
    ? { name: lease.name, holder: lease.holder, token: lease.token, expiresAt }
    : undefined;
}

export async function releaseLease(ctx: Ctx, lease: Lease): Promise<boolean> {
  checkLease(ctx.limits, lease);
  const r = await query(
    ctx.db,
    'releaseLease',
    `UPDATE leases SET holder = NULL, expires_at = 'epoch' WHERE name = $1 AND holder = $2 AND token = $3`,
    [lease.name, lease.holder, lease.token],
  );
  return r.rowCount === 1;
}

export async function getLease(ctx: Ctx, name: string, now: Date = new Date()): Promise<Lease | undefined> {
  checkKey('lease name', name, ctx.limits.maxKeyLength);
  date('now', now);
  const { rows } = await query<LeaseRow>(
    ctx.db,
    'getLease',
    `SELECT holder, token::text AS token, expires_at FROM leases
     WHERE name = $1 AND holder IS NOT NULL AND expires_at > $2`,
    [name, now],
  );
  const r = rows[0];
  return r ? { name, holder: r.holder!, token: Number(r.token), expiresAt: r.expires_at } : undefined;
}

/**
 * Writes job state only with the lease's current token: the lease row is read FOR SHARE, so a
 * concurrent acquire (which bumps the token) waits for the write to commit, or the write sees the new
 * token and fails with FENCED.
 */
export async function writeJobState(ctx: Ctx, name: string, token: number, state: string): Promise<void> {
  checkKey('job name', name, ctx.limits.maxKeyLength);
  checkToken(token);
  if (typeof state !== 'string') throw new StorageError('INVALID_INPUT', 'state must be a string');
  if (Buffer.byteLength(state) > ctx.limits.maxBlobBytes) {
    throw new StorageError('PAYLOAD_TOO_LARGE', `job state is larger than ${ctx.limits.maxBlobBytes} bytes`);
  }
  await transaction(ctx.db, 'writeJobState', async (tx) => {
    const { rows } = await tx.query<{ token: string }>(
      'SELECT token::text AS token FROM leases WHERE name = $1 FOR SHARE',
      [name],
    );
    if (!rows[0] || Number(rows[0].token) !== token) {
      throw new StorageError(
        'FENCED',
        `token ${token} is not the current token of lease ${JSON.stringify(name)}`,
      );
    }
    const r = await tx.query(
      `INSERT INTO job_states (name, state, token, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, token = EXCLUDED.token, updated_at = EXCLUDED.updated_at
       WHERE job_states.token <= EXCLUDED.token`,
      [name, state, token, new Date()],
    );
    if (r.rowCount === 0) {
      throw new StorageError('FENCED', `job state ${JSON.stringify(name)} was written with a newer token`);
    }
  });
}

export async function readJobState(ctx: Ctx, name: string): Promise<JobState | undefined> {
  checkKey('job name', name, ctx.limits.maxKeyLength);
  const { rows } = await query<{ state: string; token: string; updated_at: Date }>(
    ctx.db,
    'readJobState',
    'SELECT state, token::text AS token, updated_at FROM job_states WHERE name = $1',
    [name],
  );
  const r = rows[0];
  return r ? { name, state: r.state, token: Number(r.token), updatedAt: r.updated_at } : undefined;
}
