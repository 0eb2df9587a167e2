import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import { query, type Tx, transaction } from './pool';

const leaseColumns = 'holder, token::text AS token, expires_at';

export const { acquireLease, renewLease, releaseLease, getLease, writeJobState, readJobState } =
  core.leaseStoreOf<Ctx, Tx>({
    transaction: (ctx, what, fn) => transaction(ctx.db, what, fn),
    async lockLease(tx, name) {
      await tx.query(
        `INSERT INTO leases (name, holder, token, expires_at) VALUES ($1, NULL, 0, 'epoch')
       ON CONFLICT (name) DO NOTHING`,
        [name],
      );
      const { rows } = await tx.query<core.LeaseRow>(
        `SELECT ${leaseColumns} FROM leases WHERE name = $1 FOR UPDATE`,
        [name],
      );
      return rows[0] as core.LeaseRow;
    },
    async setLease(tx, name, holder, token, expiresAt) {
      await tx.query('UPDATE leases SET holder = $2, token = $3, expires_at = $4 WHERE name = $1', [
        name,
        holder,
        token,
        expiresAt,
      ]);
    },
    async renew(ctx, name, holder, token, expiresAt, now) {
      const r = await query(
        ctx.db,
        'renewLease',
        `UPDATE leases SET expires_at = $4
       WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > $5`,
        [name, holder, token, expiresAt, now],
      );
      return r.rowCount === 1;
    },
    async release(ctx, name, holder, token) {
      const r = await query(
        ctx.db,
        'releaseLease',
        `UPDATE leases SET holder = NULL, expires_at = 'epoch' WHERE name = $1 AND holder = $2 AND token = $3`,
        [name, holder, token],
      );
      return r.rowCount === 1;
    },
    async readLease(ctx, name, now) {
      const { rows } = await query<core.LeaseRow>(
        ctx.db,
        'getLease',
        `SELECT ${leaseColumns} FROM leases WHERE name = $1 AND holder IS NOT NULL AND expires_at > $2`,
        [name, now],
      );
      return rows[0];
    },
    // FOR SHARE: a concurrent acquire (which bumps the token) waits for this write to commit.
    async lockToken(tx, name) {
      const { rows } = await tx.query<{ token: string }>(
        'SELECT token::text AS token FROM leases WHERE name = $1 FOR SHARE',
        [name],
      );
      return rows[0]?.token;
    },
    async writeState(tx, name, state, token, at) {
      const r = await tx.query(
        `INSERT INTO job_states (name, state, token, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, token = EXCLUDED.token, updated_at = EXCLUDED.updated_at
       WHERE job_states.token <= EXCLUDED.token`,
        [name, state, token, at],
      );
      return r.rowCount !== 0;
    },
    async readState(ctx, name) {
      const { rows } = await query<core.JobStateRow>(
        ctx.db,
        'readJobState',
        'SELECT state, token::text AS token, updated_at FROM job_states WHERE name = $1',
        [name],
      );
      return rows[0];
    },
  });
