import {
  checkBytes,
  checkKey,
  type IssuedCertificateRecord,
  SenderNonceBudget,
  StorageError,
} from '@mdmkit/storage';
import { bytes, type Ctx, date, optionalText } from './context';
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

interface IssuedRow {
  serial: string;
  subject: string;
  not_before: Date;
  not_after: Date;
  requester: string | null;
  certificate_der: Uint8Array;
  issued_at: Date;
}

function toIssued(r: IssuedRow): IssuedCertificateRecord {
  const rec: IssuedCertificateRecord = {
    serial: r.serial,
    subject: r.subject,
    notBefore: r.not_before,
    notAfter: r.not_after,
    certificateDer: bytes(r.certificate_der),
    issuedAt: r.issued_at,
  };
  if (r.requester !== null) rec.requester = r.requester;
  return rec;
}

export async function putIssuedCertificate(ctx: Ctx, rec: IssuedCertificateRecord): Promise<void> {
  if (typeof rec !== 'object' || rec === null)
    throw new StorageError('INVALID_INPUT', 'record must be an object');
  checkKey('serial', rec.serial, ctx.limits.maxKeyLength);
  if (typeof rec.subject !== 'string') throw new StorageError('INVALID_INPUT', 'subject must be a string');
  optionalText(ctx, 'subject', rec.subject, 4096);
  if (!(rec.certificateDer instanceof Uint8Array)) {
    throw new StorageError('INVALID_INPUT', 'certificateDer must be a Uint8Array');
  }
  checkBytes('certificateDer', rec.certificateDer, ctx.limits.maxBlobBytes);
  const r = await query(
    ctx.db,
    'putIssuedCertificate',
    `INSERT INTO scep_issued_certificates (serial, subject, not_before, not_after, requester, certificate_der, issued_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (serial) DO NOTHING`,
    [
      rec.serial,
      rec.subject,
      date('notBefore', rec.notBefore),
      date('notAfter', rec.notAfter),
      optionalText(ctx, 'requester', rec.requester),
      rec.certificateDer,
      date('issuedAt', rec.issuedAt),
    ],
  );
  if (r.rowCount === 0) {
    throw new StorageError('CONFLICT', `a certificate with serial ${rec.serial} is already recorded`);
  }
}

const issuedColumns = 'serial, subject, not_before, not_after, requester, certificate_der, issued_at';

export async function getIssuedCertificate(
  ctx: Ctx,
  serialHex: string,
): Promise<IssuedCertificateRecord | undefined> {
  checkKey('serial', serialHex, ctx.limits.maxKeyLength);
  const { rows } = await query<IssuedRow>(
    ctx.db,
    'getIssuedCertificate',
    `SELECT ${issuedColumns} FROM scep_issued_certificates WHERE serial = $1`,
    [serialHex],
  );
  return rows[0] ? toIssued(rows[0]) : undefined;
}

export async function findIssuedCertificatesBySubject(
  ctx: Ctx,
  subject: string,
): Promise<IssuedCertificateRecord[]> {
  if (typeof subject !== 'string') throw new StorageError('INVALID_INPUT', 'subject must be a string');
  const { rows } = await query<IssuedRow>(
    ctx.db,
    'findIssuedCertificatesBySubject',
    `SELECT ${issuedColumns} FROM scep_issued_certificates WHERE subject = $1 ORDER BY issued_at, serial`,
    [subject],
  );
  return rows.map(toIssued);
}
