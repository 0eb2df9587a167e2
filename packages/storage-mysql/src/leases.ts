import { checkKey, type JobState, type Lease, StorageError } from '@mdmkit/storage';
import type mysql from 'mysql2/promise';
import { checkAcquire, checkLease, checkToken, decideAcquire } from '@mdmkit/storage/sql';
import { type Ctx, date } from './context';
import { execute, type Header, transaction } from './pool';

const epoch = new Date(0);

/**
 * Takes or extends a lease. The row is created on first use and never deleted, so the token only
 * grows; the decision is made under the row lock (SELECT ... FOR UPDATE), so two replicas can
 * never both win.
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
    await tx.execute(
      `INSERT INTO leases (name, holder, token, expires_at) VALUES (?, NULL, 0, ?)
       ON DUPLICATE KEY UPDATE name = name`,
      [name, epoch],
    );
    const [rows] = await tx.execute<mysql.RowDataPacket[]>(
      'SELECT holder, token, expires_at FROM leases WHERE name = ? FOR UPDATE',
      [name],
    );
    const row = rows[0]!;
    const won = decideAcquire(
      { holder: row.holder as string | null, token: row.token as number, expires_at: row.expires_at as Date },
      name,
      holder,
      now,
      expiresAt,
    );
    if (!won) return undefined;
    const { token } = won;
    await tx.execute('UPDATE leases SET holder = ?, token = ?, expires_at = ? WHERE name = ?', [
      holder,
      token,
      expiresAt,
      name,
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
  const r = await execute<Header>(
    ctx.db,
    'renewLease',
    'UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?',
    [expiresAt, lease.name, lease.holder, lease.token, now],
  );
  return r.affectedRows === 1
    ? { name: lease.name, holder: lease.holder, token: lease.token, expiresAt }
    : undefined;
}

export async function releaseLease(ctx: Ctx, lease: Lease): Promise<boolean> {
  checkLease(ctx.limits, lease);
  const r = await execute<Header>(
    ctx.db,
    'releaseLease',
    'UPDATE leases SET holder = NULL, expires_at = ? WHERE name = ? AND holder = ? AND token = ?',
    [epoch, lease.name, String(lease.holder), lease.token],
  );
  return r.affectedRows === 1;
}

export async function getLease(ctx: Ctx, name: string, now: Date = new Date()): Promise<Lease | undefined> {
  checkKey('lease name', name, ctx.limits.maxKeyLength);
  date('now', now);
  const rows = await execute<mysql.RowDataPacket[]>(
    ctx.db,
    'getLease',
    'SELECT holder, token, expires_at FROM leases WHERE name = ? AND holder IS NOT NULL AND expires_at > ?',
    [name, now],
  );
  const r = rows[0];
  return r
    ? { name, holder: r.holder as string, token: Number(r.token), expiresAt: r.expires_at as Date }
    : undefined;
}

/**
 * Writes job state only with the lease's current token: the lease row is read with a shared lock,
 * so a concurrent acquire (which bumps the token) waits for the write to commit, or the write sees
 * the new token and fails with FENCED.
 */
export async function writeJobState(ctx: Ctx, name: string, token: number, state: string): Promise<void> {
  checkKey('job name', name, ctx.limits.maxKeyLength);
  checkToken(token);
  if (typeof state !== 'string') throw new StorageError('INVALID_INPUT', 'state must be a string');
  if (Buffer.byteLength(state) > ctx.limits.maxBlobBytes) {
    throw new StorageError('PAYLOAD_TOO_LARGE', `job state is larger than ${ctx.limits.maxBlobBytes} bytes`);
  }
  await transaction(ctx.db, 'writeJobState', async (tx) => {
    const [rows] = await tx.execute<mysql.RowDataPacket[]>(
      'SELECT token FROM leases WHERE name = ? LOCK IN SHARE MODE',
      [name],
    );
    if (!rows[0] || Number(rows[0].token) !== token) {
      throw new StorageError(
        'FENCED',
        `token ${token} is not the current token of lease ${JSON.stringify(name)}`,
      );
    }
    await tx.execute(
      `INSERT INTO job_states (name, state, token, updated_at) VALUES (?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE state = VALUES(state), token = VALUES(token), updated_at = VALUES(updated_at)`,
      [name, state, token, new Date()],
    );
  });
}

export async function readJobState(ctx: Ctx, name: string): Promise<JobState | undefined> {
  checkKey('job name', name, ctx.limits.maxKeyLength);
  const rows = await execute<mysql.RowDataPacket[]>(
    ctx.db,
    'readJobState',
    'SELECT state, token, updated_at FROM job_states WHERE name = ?',
    [name],
  );
  const r = rows[0];
  return r
    ? { name, state: r.state as string, token: Number(r.token), updatedAt: r.updated_at as Date }
    : undefined;
}
