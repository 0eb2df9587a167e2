import { checkKey, type StoredPushCert } from '@mdmkit/storage';
import type mysql from 'mysql2/promise';
import { checkPushCert, type PushCertRow, toPushCert } from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import { buf, execute, transaction } from './pool';

type PushRow = mysql.RowDataPacket & PushCertRow;

const columns = 'topic, certificate_pem, sealed_key, version, updated_at';

export async function getPushCert(ctx: Ctx, topic: string): Promise<StoredPushCert | undefined> {
  checkKey('topic', topic, ctx.limits.maxKeyLength);
  const rows = await execute<PushRow[]>(
    ctx.db,
    'getPushCert',
    `SELECT ${columns} FROM push_certificates WHERE topic = ?`,
    [topic],
  );
  return rows[0] ? toPushCert(rows[0]) : undefined;
}

/**
 * The version is a per-topic counter bumped by the upsert; the row stays locked until commit, so
 * the record read back in the same transaction is exactly the one written.
 */
export async function putPushCert(
  ctx: Ctx,
  rec: { topic: string; certificatePem: string; sealedKey: Uint8Array },
): Promise<StoredPushCert> {
  checkPushCert(ctx.limits, rec);
  return transaction(ctx.db, 'putPushCert', async (tx) => {
    await tx.execute(
      `INSERT INTO push_certificates (topic, certificate_pem, sealed_key, version, updated_at)
       VALUES (?, ?, ?, 1, ?)
       ON DUPLICATE KEY UPDATE certificate_pem = VALUES(certificate_pem), sealed_key = VALUES(sealed_key),
         version = version + 1, updated_at = VALUES(updated_at)`,
      [rec.topic, rec.certificatePem, buf(rec.sealedKey), new Date()],
    );
    const [rows] = await tx.execute<PushRow[]>(`SELECT ${columns} FROM push_certificates WHERE topic = ?`, [
      rec.topic,
    ]);
    return toPushCert(rows[0]!);
  });
}

export async function listPushCerts(ctx: Ctx): Promise<StoredPushCert[]> {
  const rows = await execute<PushRow[]>(
    ctx.db,
    'listPushCerts',
    `SELECT ${columns} FROM push_certificates ORDER BY topic`,
  );
  return rows.map(toPushCert);
}
