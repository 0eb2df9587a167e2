// SCEP challenges, sender nonces and issued certificates.
import { checkDate, checkKey, type IssuedCertificateRecord, SenderNonceBudget } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import type { Row } from './io';
import { buf, dated } from './values';

/** Issued-certificate columns under the names `core.toIssued` reads. */
const issuedColumns = 'serial, subject, not_before, not_after, requester, der AS certificate_der, issued_at';

const toIssued = (r: Row): IssuedCertificateRecord =>
  core.toIssued(dated(r, 'not_before', 'not_after', 'issued_at'));

async function tidy(ctx: Ctx): Promise<void> {
  // expired challenges and nonces are removed now and then rather than on every call
  if (++ctx.housekeeping % 1000 !== 0) return;
  const now = Date.now();
  await ctx.write(() => {
    ctx.stmt('DELETE FROM scep_nonces WHERE expires_at <= ?').run(now);
    ctx.stmt('DELETE FROM scep_challenges WHERE expires_at <= ?').run(now);
  });
}

export async function putChallenge(ctx: Ctx, challengeHash: string, expiresAt: Date): Promise<void> {
  checkKey('challenge hash', challengeHash, ctx.limits.maxKeyLength);
  checkDate('expiresAt', expiresAt);
  await ctx.write(() =>
    ctx
      .stmt(
        'INSERT INTO scep_challenges (hash, expires_at) VALUES (?, ?) ON CONFLICT (hash) DO UPDATE SET expires_at = excluded.expires_at',
      )
      .run(challengeHash, expiresAt.getTime()),
  );
  await tidy(ctx);
}

export async function consumeChallenge(
  ctx: Ctx,
  challengeHash: string,
  now: Date = new Date(),
): Promise<boolean> {
  if (typeof challengeHash !== 'string') return false;
  const row = await ctx.write(
    () =>
      ctx.stmt('DELETE FROM scep_challenges WHERE hash = ? RETURNING expires_at').get(challengeHash) as
        | Row
        | undefined,
  );
  return row !== undefined && (row.expires_at as number) > now.getTime();
}

export async function recordSenderNonce(ctx: Ctx, nonceHex: string, expiresAt: Date): Promise<boolean> {
  checkKey('sender nonce', nonceHex, ctx.limits.maxKeyLength);
  checkDate('expiresAt', expiresAt);
  const gate = await SenderNonceBudget.for(ctx, ctx.limits.maxSenderNonces).gate({
    countLive: async () =>
      (ctx.stmt('SELECT count(*) AS n FROM scep_nonces WHERE expires_at > ?').get(Date.now()) as Row)
        .n as number,
    isLive: async () =>
      ctx.stmt('SELECT 1 FROM scep_nonces WHERE nonce = ? AND expires_at > ?').get(nonceHex, Date.now()) !==
      undefined,
  });
  if (gate === 'replay') return false;
  const changed = await ctx.write(
    () =>
      ctx
        .stmt(
          `INSERT INTO scep_nonces (nonce, expires_at) VALUES (?, ?)
           ON CONFLICT (nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE scep_nonces.expires_at <= ?`,
        )
        .run(nonceHex, expiresAt.getTime(), Date.now()).changes,
  );
  await tidy(ctx);
  return changed === 1;
}

export async function putIssuedCertificate(ctx: Ctx, rec: IssuedCertificateRecord): Promise<void> {
  const [serial, subject, notBefore, notAfter, requester, der, issuedAt] = core.issuedValues(ctx.limits, rec);
  await ctx.write(() => {
    const changed = ctx
      .stmt(
        `INSERT INTO scep_certificates (serial, subject, not_before, not_after, requester, der, issued_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (serial) DO NOTHING`,
      )
      .run(
        serial,
        subject,
        notBefore.getTime(),
        notAfter.getTime(),
        requester,
        buf(der),
        issuedAt.getTime(),
      ).changes;
    if (changed === 0) throw core.serialTaken(serial);
  });
}

export async function getIssuedCertificate(
  ctx: Ctx,
  serialHex: string,
): Promise<IssuedCertificateRecord | undefined> {
  ctx.check();
  const row = ctx.stmt(`SELECT ${issuedColumns} FROM scep_certificates WHERE serial = ?`).get(serialHex) as
    | Row
    | undefined;
  return row ? toIssued(row) : undefined;
}

export async function findIssuedCertificatesBySubject(
  ctx: Ctx,
  subject: string,
): Promise<IssuedCertificateRecord[]> {
  ctx.check();
  const rows = ctx
    .stmt(`SELECT ${issuedColumns} FROM scep_certificates WHERE subject = ? ORDER BY issued_at, serial`)
    .all(subject) as Row[];
  return rows.map(toIssued);
}
