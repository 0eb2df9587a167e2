// APNs push certificates, one per topic.
import type { StoredPushCert } from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import type { Row } from './io';
import { buf, dated } from './values';

const toPushCert = (r: Row): StoredPushCert => core.toPushCert(dated(r, 'updated_at'));

export async function getPushCert(ctx: Ctx, topic: string): Promise<StoredPushCert | undefined> {
  ctx.check();
  const row = ctx.stmt('SELECT * FROM push_certs WHERE topic = ?').get(topic) as Row | undefined;
  return row ? toPushCert(row) : undefined;
}

export async function putPushCert(
  ctx: Ctx,
  rec: { topic: string; certificatePem: string; sealedKey: Uint8Array },
): Promise<StoredPushCert> {
  core.checkPushCert(ctx.limits, rec);
  return ctx.write(() => {
    const row = ctx
      .stmt(
        `INSERT INTO push_certs (topic, certificate_pem, sealed_key, version, updated_at) VALUES (?, ?, ?, 1, ?)
         ON CONFLICT (topic) DO UPDATE SET certificate_pem = excluded.certificate_pem, sealed_key = excluded.sealed_key,
           version = push_certs.version + 1, updated_at = excluded.updated_at
         RETURNING *`,
      )
      .get(rec.topic, rec.certificatePem, buf(rec.sealedKey), Date.now()) as Row;
    return toPushCert(row);
  });
}

export async function listPushCerts(ctx: Ctx): Promise<StoredPushCert[]> {
  ctx.check();
  return (ctx.stmt('SELECT * FROM push_certs ORDER BY topic').all() as Row[]).map(toPushCert);
}
