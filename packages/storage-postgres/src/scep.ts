import { checkKey, type IssuedCertificateRecord, SenderNonceBudget } from '@mdmkit/storage';
import { type Ctx, date } from './context';
import { type IssuedRow, issuedColumns, issuedLookups, issuedValues, serialTaken } from '@mdmkit/storage/sql';
import { query } from './pool';

export async function putChallenge(ctx: Ctx, challengeHash: string, expiresAt: Date): Promise<void> {
  checkKey('challenge hash', challengeHash, ctx.limits.maxKeyLength);
  date('expiresAt', expiresAt);
  await query(
    ctx.db,
    'putChallenge',
    `INSERT INTO scep_challenges (challenge_hash, expires_at) VALUES ($1, $2)
     ON CONFLICT (challenge_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
    [challengeHash, expiresAt],
  );
}

/** DELETE ... RETURNING is atomic: of several concurrent consumers exactly one gets the row. */
export async function consumeChallenge(
  ctx: Ctx,
  challengeHash: string,
  now: Date = new Date(),
): Promise<boolean> {
  checkKey('challenge hash', challengeHash, ctx.limits.maxKeyLength);
  date('now', now);
  const { rows } = await query<{ expires_at: Date }>(
    ctx.db,
    'consumeChallenge',
    'DELETE FROM scep_challenges WHERE challenge_hash = $1 RETURNING expires_at',
    [challengeHash],
  );
  return rows.length === 1 && rows[0]!.expires_at.getTime() > now.getTime();
}

/**
 * Inserts the nonce, or takes over an expired record of it; a live record means a replay. Expired
 * nonces are pruned a few at a time on the way, so the table stays at the size of the window; the
 * number of live ones is kept under `limits.maxSenderNonces` (see {@link SenderNonceBudget}).
 */
export async function recordSenderNonce(ctx: Ctx, nonceHex: string, expiresAt: Date): Promise<boolean> {
  checkKey('sender nonce', nonceHex, ctx.limits.maxKeyLength);
  date('expiresAt', expiresAt);
  const now = new Date();
  const gate = await SenderNonceBudget.for(ctx, ctx.limits.maxSenderNonces).gate({
    countLive: async () => {
      const sql = 'SELECT count(*) AS n FROM scep_nonces WHERE expires_at > $1';
      const { rows } = await query<{ n: string }>(ctx.db, 'recordSenderNonce', sql, [now]);
      return Number(rows[0]!.n);
    },
    isLive: async () => {
      const sql = 'SELECT 1 FROM scep_nonces WHERE nonce = $1 AND expires_at > $2';
      return (await query(ctx.db, 'recordSenderNonce', sql, [nonceHex, now])).rows.length === 1;
    },
  });
  if (gate === 'replay') return false;
  const { rows } = await query(
    ctx.db,
    'recordSenderNonce',
    `INSERT INTO scep_nonces (nonce, expires_at) VALUES ($1, $2)
     ON CONFLICT (nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE scep_nonces.expires_at <= $3
     RETURNING 1`,
    [nonceHex, expiresAt, now],
  );
  await query(
    ctx.db,
    'recordSenderNonce',
    `DELETE FROM scep_nonces WHERE nonce IN (
       SELECT nonce FROM scep_nonces WHERE expires_at <= $1 LIMIT 100 FOR UPDATE SKIP LOCKED)`,
    [now],
  );
  return rows.length === 1;
}

export async function putIssuedCertificate(ctx: Ctx, rec: IssuedCertificateRecord): Promise<void> {
  const values = issuedValues(ctx.limits, rec);
  const r = await query(
    ctx.db,
    'putIssuedCertificate',
    `INSERT INTO scep_issued_certificates (serial, subject, not_before, not_after, requester, certificate_der, issued_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (serial) DO NOTHING`,
    values,
  );
  if (r.rowCount === 0) throw serialTaken(rec.serial);
}

export const { getIssuedCertificate, findIssuedCertificatesBySubject } = issuedLookups<Ctx>(
  async (ctx, serialHex) => {
    const { rows } = await query<IssuedRow>(
      ctx.db,
      'getIssuedCertificate',
      `SELECT ${issuedColumns} FROM scep_issued_certificates WHERE serial = $1`,
      [serialHex],
    );
    return rows[0];
  },
  async (ctx, subject) => {
    const { rows } = await query<IssuedRow>(
      ctx.db,
      'findIssuedCertificatesBySubject',
      `SELECT ${issuedColumns} FROM scep_issued_certificates WHERE subject = $1 ORDER BY issued_at, serial`,
      [subject],
    );
    return rows;
  },
);
