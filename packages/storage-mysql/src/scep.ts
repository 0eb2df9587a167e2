import { checkKey, type IssuedCertificateRecord, SenderNonceBudget } from '@mdmkit/storage';
import type mysql from 'mysql2/promise';
import { type Ctx, date } from './context';
import {
  issuedColumns,
  issuedLookups,
  type IssuedRow as SqlIssuedRow,
  issuedValues,
  serialTaken,
} from '@mdmkit/storage/sql';
import { isDuplicateKey, toStorageError } from './errors';
import { buf, execute, type Header } from './pool';

export async function putChallenge(ctx: Ctx, challengeHash: string, expiresAt: Date): Promise<void> {
  checkKey('challenge hash', challengeHash, ctx.limits.maxKeyLength);
  date('expiresAt', expiresAt);
  await execute(
    ctx.db,
    'putChallenge',
    `INSERT INTO scep_challenges (challenge_hash, expires_at) VALUES (?, ?)
     ON DUPLICATE KEY UPDATE expires_at = VALUES(expires_at)`,
    [challengeHash, expiresAt],
  );
}

/**
 * One DELETE decides: of several concurrent consumers only the one whose DELETE removes the
 * unexpired row gets true. An expired challenge is removed too, but never accepted.
 */
export async function consumeChallenge(
  ctx: Ctx,
  challengeHash: string,
  now: Date = new Date(),
): Promise<boolean> {
  checkKey('challenge hash', challengeHash, ctx.limits.maxKeyLength);
  date('now', now);
  const r = await execute<Header>(
    ctx.db,
    'consumeChallenge',
    'DELETE FROM scep_challenges WHERE challenge_hash = ? AND expires_at > ?',
    [challengeHash, now],
  );
  if (r.affectedRows === 1) return true;
  await execute(
    ctx.db,
    'consumeChallenge',
    'DELETE FROM scep_challenges WHERE challenge_hash = ? AND expires_at <= ?',
    [challengeHash, now],
  );
  return false;
}

/**
 * Inserts the nonce; a duplicate key means it was seen before, and only an expired record may be
 * taken over (the UPDATE re-checks expiry under the row lock). Expired nonces are pruned a few at a
 * time on the way, so the table stays at the size of the replay window; the number of live ones is
 * kept under `limits.maxSenderNonces` (see {@link SenderNonceBudget}).
 */
export async function recordSenderNonce(ctx: Ctx, nonceHex: string, expiresAt: Date): Promise<boolean> {
  checkKey('sender nonce', nonceHex, ctx.limits.maxKeyLength);
  date('expiresAt', expiresAt);
  const now = new Date();
  const gate = await SenderNonceBudget.for(ctx, ctx.limits.maxSenderNonces).gate({
    countLive: async () => {
      const sql = 'SELECT COUNT(*) AS n FROM scep_nonces WHERE expires_at > ?';
      return Number((await execute(ctx.db, 'recordSenderNonce', sql, [now]))[0]!.n);
    },
    isLive: async () => {
      const sql = 'SELECT 1 FROM scep_nonces WHERE nonce = ? AND expires_at > ?';
      return (await execute(ctx.db, 'recordSenderNonce', sql, [nonceHex, now])).length === 1;
    },
  });
  if (gate === 'replay') return false;
  let fresh: boolean;
  try {
    await ctx.db.pool.execute('INSERT INTO scep_nonces (nonce, expires_at) VALUES (?, ?)', [
      nonceHex,
      expiresAt,
    ]);
    fresh = true;
  } catch (e) {
    if (!isDuplicateKey(e)) throw toStorageError(e, 'recordSenderNonce');
    const r = await execute<Header>(
      ctx.db,
      'recordSenderNonce',
      'UPDATE scep_nonces SET expires_at = ? WHERE nonce = ? AND expires_at <= ?',
      [expiresAt, nonceHex, now],
    );
    fresh = r.affectedRows === 1;
  }
  await execute(ctx.db, 'recordSenderNonce', 'DELETE FROM scep_nonces WHERE expires_at <= ? LIMIT 100', [
    now,
  ]);
  return fresh;
}

type IssuedRow = mysql.RowDataPacket & SqlIssuedRow;

export async function putIssuedCertificate(ctx: Ctx, rec: IssuedCertificateRecord): Promise<void> {
  const values = issuedValues(ctx.limits, rec);
  values[5] = buf(values[5])!;
  try {
    await ctx.db.pool.execute(
      `INSERT INTO scep_issued_certificates (serial, subject, not_before, not_after, requester, certificate_der, issued_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      values,
    );
  } catch (e) {
    if (isDuplicateKey(e)) {
      throw serialTaken(rec.serial);
    }
    throw toStorageError(e, 'putIssuedCertificate');
  }
}

export const { getIssuedCertificate, findIssuedCertificatesBySubject } = issuedLookups<Ctx>(
  async (ctx, serialHex) => {
    const rows = await execute<IssuedRow[]>(
      ctx.db,
      'getIssuedCertificate',
      `SELECT ${issuedColumns} FROM scep_issued_certificates WHERE serial = ?`,
      [serialHex],
    );
    return rows[0];
  },
  (ctx, subject) =>
    execute<IssuedRow[]>(
      ctx.db,
      'findIssuedCertificatesBySubject',
      `SELECT ${issuedColumns} FROM scep_issued_certificates WHERE subject = ? ORDER BY issued_at, serial`,
      [subject],
    ),
);
