import { checkKey, type StoredPushCert } from '@mdmkit/storage';
import { checkPushCert, type PushCertRow as PushRow, toPushCert } from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import { query } from './pool';

const columns = 'topic, certificate_pem, sealed_key, version::text AS version, updated_at';

export async function getPushCert(ctx: Ctx, topic: string): Promise<StoredPushCert | undefined> {
  checkKey('topic', topic, ctx.limits.maxKeyLength);
  const { rows } = await query<PushRow>(
    ctx.db,
    'getPushCert',
    `SELECT ${columns} FROM push_certificates WHERE topic = $1`,
    [topic],
  );
  return rows[0] ? toPushCert(rows[0]) : undefined;
}

/** The version is a per-topic counter bumped atomically by the upsert, so replicas never reuse one. */
export async function putPushCert(
  ctx: Ctx,
  rec: { topic: string; certificatePem: string; sealedKey: Uint8Array },
): Promise<StoredPushCert> {
  checkPushCert(ctx.limits, rec);
  const { rows } = await query<PushRow>(
    ctx.db,
    'putPushCert',
    `INSERT INTO push_certificates (topic, certificate_pem, sealed_key, version, updated_at)
     VALUES ($1, $2, $3, 1, $4)
     ON CONFLICT (topic) DO UPDATE SET certificate_pem = EXCLUDED.certificate_pem,
       sealed_key = EXCLUDED.sealed_key, version = push_certificates.version + 1, updated_at = EXCLUDED.updated_at
     RETURNING ${columns}`,
    [rec.topic, rec.certificatePem, rec.sealedKey, new Date()],
  );
  return toPushCert(rows[0]!);
}

export async function listPushCerts(ctx: Ctx): Promise<StoredPushCert[]> {
  const { rows } = await query<PushRow>(
    ctx.db,
    'listPushCerts',
    `SELECT ${columns} FROM push_certificates ORDER BY topic`,
  );
  return rows.map(toPushCert);
}
