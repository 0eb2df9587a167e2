import * as core from '@mdmkit/storage/sql';
import type mysql from 'mysql2/promise';
import type { Ctx } from './context';
import { execute, type Header, type Tx, transaction } from './pool';

const epoch = new Date(0);
type Rows = mysql.RowDataPacket[];

export const { acquireLease, renewLease, releaseLease, getLease, writeJobState, readJobState } =
  core.leaseStoreOf<Ctx, Tx>({
    transaction: (ctx, what, fn) => transaction(ctx.db, what, fn),
    async lockLease(tx, name) {
      await tx.execute(
        `INSERT INTO leases (name, holder, token, expires_at) VALUES (?, NULL, 0, ?)
       ON DUPLICATE KEY UPDATE name = name`,
        [name, epoch],
      );
      const [rows] = await tx.execute<Rows>(
        'SELECT holder, token, expires_at FROM leases WHERE name = ? FOR UPDATE',
        [name],
      );
      return rows[0] as core.LeaseRow;
    },
    async setLease(tx, name, holder, token, expiresAt) {
      await tx.execute('UPDATE leases SET holder = ?, token = ?, expires_at = ? WHERE name = ?', [
        holder,
        token,
        expiresAt,
        name,
      ]);
    },
    async renew(ctx, name, holder, token, expiresAt, now) {
      const r = await execute<Header>(
        ctx.db,
        'renewLease',
        'UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?',
        [expiresAt, name, holder, token, now],
      );
      return r.affectedRows === 1;
    },
    async release(ctx, name, holder, token) {
      const r = await execute<Header>(
        ctx.db,
        'releaseLease',
        'UPDATE leases SET holder = NULL, expires_at = ? WHERE name = ? AND holder = ? AND token = ?',
        [epoch, name, holder, token],
      );
      return r.affectedRows === 1;
    },
    async readLease(ctx, name, now) {
      const rows = await execute<Rows>(
        ctx.db,
        'getLease',
        'SELECT holder, token, expires_at FROM leases WHERE name = ? AND holder IS NOT NULL AND expires_at > ?',
        [name, now],
      );
      return rows[0] as core.LeaseRow | undefined;
    },
    // A shared lock: a concurrent acquire (which bumps the token) waits for this write to commit.
    async lockToken(tx, name) {
      const [rows] = await tx.execute<Rows>('SELECT token FROM leases WHERE name = ? LOCK IN SHARE MODE', [
        name,
      ]);
      return rows[0]?.token as number | string | undefined;
    },
    // The token was checked under the lease row's shared lock just before, so no newer write can exist.
    async writeState(tx, name, state, token, at) {
      await tx.execute(
        `INSERT INTO job_states (name, state, token, updated_at) VALUES (?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE state = VALUES(state), token = VALUES(token), updated_at = VALUES(updated_at)`,
        [name, state, token, at],
      );
      return true;
    },
    async readState(ctx, name) {
      const rows = await execute<Rows>(
        ctx.db,
        'readJobState',
        'SELECT state, token, updated_at FROM job_states WHERE name = ?',
        [name],
      );
      return rows[0] as core.JobStateRow | undefined;
    },
  });
