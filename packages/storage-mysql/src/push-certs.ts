import { checkBytes, checkKey, StorageError, type StoredPushCert } from '@mdmkit/storage';
import type mysql from 'mysql2/promise';
import { bytes, type Ctx } from './context';
import { buf, execute, transaction } from './pool';

type PushRow = mysql.RowDataPacket & {
  topic: string;
  certificate_pem: string;
  sealed_key: Uint8Array;
  version: string;
  updated_at: Date;
};

function toPushCert(r: PushRow): StoredPushCert {
  return {
    topic: r.topic,
    certificatePem: r.certificate_pem,
    sealedKey: bytes(r.sealed_key),
    version: String(r.version),
    updatedAt: r.updated_at,
  };
}

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
  if (typeof rec !== 'object' || rec === null)
    throw new StorageError('INVALID_INPUT', 'record must be an object');
  checkKey('topic', rec.topic, ctx.limits.maxKeyLength);
  if (typeof rec.certificatePem !== 'string' || rec.certificatePem.length === 0) {
    throw new StorageError('INVALID_INPUT', 'certificatePem must be a non-empty string');
  }
  if (rec.certificatePem.length > ctx.limits.maxBlobBytes) {
    throw new StorageError('PAYLOAD_TOO_LARGE', `certificatePem is longer than ${ctx.limits.maxBlobBytes}`);
  }
  if (!(rec.sealedKey instanceof Uint8Array))
    throw new StorageError('INVALID_INPUT', 'sealedKey must be bytes');
  checkBytes('sealedKey', rec.sealedKey, ctx.limits.maxBlobBytes);
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
