import { checkBytes, checkKey, StorageError, type StoredPushCert } from '@mdmkit/storage';
import { bytes, type Ctx } from './context';
import { query } from './pool';

interface PushRow {
  topic: string;
  certificate_pem: string;
  sealed_key: Uint8Array;
  version: string;
  updated_at: Date;
}

function toPushCert(r: PushRow): StoredPushCert {
  return {
    topic: r.topic,
    certificatePem: r.certificate_pem,
    sealedKey: bytes(r.sealed_key),
    version: r.version,
    updatedAt: r.updated_at,
  };
}

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
