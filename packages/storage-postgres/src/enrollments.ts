import * as mdm from '@mdmkit/storage';
import { bytes, type Ctx, optionalText } from './context';
import * as core from '@mdmkit/storage/sql';
import { insertOutbox, writeWithOutbox } from './outbox-store';
import { query, transaction } from './pool';

export async function authenticate(ctx: Ctx, input: mdm.AuthenticateInput): Promise<void> {
  const { serialNumber: serial, topic, raw: message, events } = core.checkAuthenticate(ctx, input);
  const now = new Date();
  // Device row first, then its user rows: the same lock order as every other multi-row write.
  await transaction(ctx.db, 'authenticate', async (tx) => {
    await tx.query(
      `INSERT INTO enrollments (id, channel, device_id, serial_number, topic, enabled, token_update_tally,
                                last_checkin_raw, created_at, updated_at)
       VALUES ($1, 'device', $1, $2, $3, false, 0, $4, $5, $5)
       ON CONFLICT (id) DO UPDATE SET
         channel = 'device', device_id = EXCLUDED.device_id,
         serial_number = COALESCE(EXCLUDED.serial_number, enrollments.serial_number),
         topic = COALESCE(EXCLUDED.topic, enrollments.topic),
         enabled = false, token_update_tally = 0,
         last_checkin_raw = COALESCE(EXCLUDED.last_checkin_raw, enrollments.last_checkin_raw),
         updated_at = EXCLUDED.updated_at`,
      [input.id, serial, topic, message, now],
    );
    await tx.query(
      `UPDATE enrollments SET enabled = false, token_update_tally = 0, updated_at = $2
       WHERE device_id = $1 AND channel = 'user' AND (enabled OR token_update_tally <> 0)`,
      [input.id, now],
    );
    // A new Authenticate starts the whole enrollment over: its queues go too (results stay).
    await tx.query(
      `DELETE FROM queue q USING enrollments e
       WHERE q.enrollment_id = e.id AND e.device_id = $1 AND (e.id = $1 OR e.channel = 'user')`,
      [input.id],
    );
    await insertOutbox(tx, events);
  });
  ctx.lastSeenWritten.delete(input.id);
}

export async function tokenUpdate(ctx: Ctx, input: mdm.TokenUpdateInput): Promise<number> {
  const t = core.checkTokenUpdateInput(ctx, input);
  const { rows } = await writeWithOutbox(ctx, 'tokenUpdate', t.events, (tx) =>
    tx.query<{ token_update_tally: number }>(
      `INSERT INTO enrollments (id, channel, device_id, user_id, user_short_name, user_long_name, topic,
                              push_token, push_magic, unlock_token, enabled, token_update_tally,
                              last_checkin_raw, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, true, 1, $11, $12, $12)
     ON CONFLICT (id) DO UPDATE SET
       channel = EXCLUDED.channel, device_id = EXCLUDED.device_id,
       user_id = COALESCE(EXCLUDED.user_id, enrollments.user_id),
       user_short_name = COALESCE(EXCLUDED.user_short_name, enrollments.user_short_name),
       user_long_name = COALESCE(EXCLUDED.user_long_name, enrollments.user_long_name),
       topic = EXCLUDED.topic, push_token = EXCLUDED.push_token, push_magic = EXCLUDED.push_magic,
       unlock_token = COALESCE(EXCLUDED.unlock_token, enrollments.unlock_token),
       enabled = true, token_update_tally = enrollments.token_update_tally + 1,
       last_checkin_raw = COALESCE(EXCLUDED.last_checkin_raw, enrollments.last_checkin_raw),
       updated_at = EXCLUDED.updated_at
     RETURNING token_update_tally`,
      core.tokenUpdateValues(t),
    ),
  );
  return rows[0]!.token_update_tally;
}

export async function userAuthenticate(ctx: Ctx, input: mdm.UserAuthenticateInput): Promise<void> {
  const u = core.checkUserAuthenticate(ctx, input);
  await writeWithOutbox(ctx, 'userAuthenticate', u.events, (q) =>
    q.query(
      `INSERT INTO enrollments (id, channel, device_id, user_id, user_short_name, user_long_name, enabled,
                              token_update_tally, last_checkin_raw, created_at, updated_at)
     VALUES ($1, 'user', $2, $3, $4, $5, false, 0, $6, $7, $7)
     ON CONFLICT (id) DO UPDATE SET
       channel = 'user', device_id = EXCLUDED.device_id,
       user_id = COALESCE(EXCLUDED.user_id, enrollments.user_id),
       user_short_name = COALESCE(EXCLUDED.user_short_name, enrollments.user_short_name),
       user_long_name = COALESCE(EXCLUDED.user_long_name, enrollments.user_long_name),
       last_checkin_raw = COALESCE(EXCLUDED.last_checkin_raw, enrollments.last_checkin_raw),
       updated_at = EXCLUDED.updated_at`,
      [u.id, u.deviceId, u.userId, u.userShortName, u.userLongName, u.raw, u.at],
    ),
  );
}

export async function checkOut(ctx: Ctx, id: string, options?: mdm.OutboxWrite): Promise<void> {
  mdm.checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const events = mdm.checkOutboxEvents(ctx.limits, options?.outbox);
  // Lock the channel itself before its user channels, matching authenticate().
  await transaction(ctx.db, 'checkOut', async (tx) => {
    const now = new Date();
    const { rows } = await tx.query<{ channel: mdm.ChannelType }>(
      'UPDATE enrollments SET enabled = false, updated_at = $2 WHERE id = $1 RETURNING channel',
      [id, now],
    );
    if (rows[0]?.channel === 'device') {
      await tx.query(
        `UPDATE enrollments SET enabled = false, updated_at = $2
         WHERE device_id = $1 AND channel = 'user' AND enabled`,
        [id, now],
      );
    }
    await insertOutbox(tx, events);
  });
}

export async function getEnrollment(ctx: Ctx, id: string): Promise<mdm.EnrollmentRecord | undefined> {
  mdm.checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const { rows } = await query<core.EnrollmentRow>(
    ctx.db,
    'getEnrollment',
    `SELECT ${core.enrollmentColumns} FROM enrollments WHERE id = $1`,
    [id],
  );
  return rows[0] ? core.toEnrollment(rows[0]) : undefined;
}

export async function putBootstrapToken(ctx: Ctx, id: string, token: Uint8Array): Promise<void> {
  core.checkBootstrapToken(ctx, id, token);
  const r = await query(
    ctx.db,
    'putBootstrapToken',
    'UPDATE enrollments SET bootstrap_token = $2, updated_at = $3 WHERE id = $1',
    [id, token, new Date()],
  );
  if (r.rowCount === 0) throw core.enrollmentNotFound(id);
}

export async function getBootstrapToken(ctx: Ctx, id: string): Promise<Uint8Array | undefined> {
  mdm.checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const { rows } = await query<{ bootstrap_token: Uint8Array | null }>(
    ctx.db,
    'getBootstrapToken',
    'SELECT bootstrap_token FROM enrollments WHERE id = $1',
    [id],
  );
  return bytes(rows[0]?.bootstrap_token);
}

/**
 * Coalesced last-seen write. Two filters keep the write rate at one per enrollment per interval:
 * this process skips ids it wrote recently without asking the server, and the UPDATE only fires when
 * the stored time is older than the interval. `SKIP LOCKED` makes a concurrent touch of the same row
 * give way instead of queueing behind it, so hammering one enrollment never builds a lock queue.
 */
export async function touchLastSeen(ctx: Ctx, id: string, at: Date = new Date()): Promise<boolean> {
  return core.coalescedLastSeen(ctx, id, at, async (cutoff) => {
    const r = await query(
      ctx.db,
      'touchLastSeen',
      `UPDATE enrollments SET last_seen_at = $2
     WHERE id = (SELECT id FROM enrollments
                 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at <= $3)
                 FOR UPDATE SKIP LOCKED)`,
      [id, at, cutoff],
    );
    return (r.rowCount ?? 0) > 0;
  });
}

export async function associateCertificate(ctx: Ctx, id: string, certHash: string): Promise<void> {
  core.checkCertificateAssociation(ctx, id, certHash);
  const r = await query(
    ctx.db,
    'associateCertificate',
    `INSERT INTO certificate_associations (cert_hash, enrollment_id, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (cert_hash) DO NOTHING`,
    [certHash, id, new Date()],
  );
  if (r.rowCount === 1) return;
  const owner = await enrollmentForCertificate(ctx, certHash);
  if (owner !== id) {
    throw core.certificateTaken();
  }
}

export async function replaceCertificate(ctx: Ctx, id: string, certHash: string): Promise<void> {
  core.checkCertificateAssociation(ctx, id, certHash);
  await transaction(ctx.db, 'replaceCertificate', async (tx) => {
    await tx.query(
      `INSERT INTO certificate_associations (cert_hash, enrollment_id, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (cert_hash) DO NOTHING`,
      [certHash, id, new Date()],
    );
    const { rows } = await tx.query<{ enrollment_id: string }>(
      'SELECT enrollment_id FROM certificate_associations WHERE cert_hash = $1',
      [certHash],
    );
    if (rows[0]?.enrollment_id !== id) {
      throw core.certificateTaken();
    }
    await tx.query('DELETE FROM certificate_associations WHERE enrollment_id = $1 AND cert_hash <> $2', [
      id,
      certHash,
    ]);
  });
}

export const { enrollmentForCertificate, isCertificateAssociated } = core.certificateLookups<Ctx>(
  async (ctx, certHash) => {
    const { rows } = await query<{ enrollment_id: string }>(
      ctx.db,
      'enrollmentForCertificate',
      'SELECT enrollment_id FROM certificate_associations WHERE cert_hash = $1',
      [certHash],
    );
    return rows[0]?.enrollment_id;
  },
);

export function exportEnrollments(
  ctx: Ctx,
  options: mdm.PageOptions = {},
): Promise<mdm.Page<mdm.EnrollmentExport>> {
  return core.exportWith(
    options,
    async (after, rows) => {
      const found = await query<core.ExportRow & { hashes: string[] }>(
        ctx.db,
        'exportEnrollments',
        `SELECT ${core.enrollmentColumns}, bootstrap_token,
                ARRAY(SELECT cert_hash FROM certificate_associations a WHERE a.enrollment_id = e.id ORDER BY cert_hash) AS hashes
         FROM enrollments e WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`,
        [after, rows],
      );
      return found.rows;
    },
    // The hashes came with the rows.
    async () => (r) => r.hashes,
  );
}

export async function importEnrollments(ctx: Ctx, items: mdm.EnrollmentExport[]): Promise<number> {
  const { items: sorted, owners, hashes } = core.prepareImport(ctx.limits, items);
  const column = <T>(f: (item: mdm.EnrollmentExport) => T) => sorted.map(f);
  // Set-based: each column travels as one array parameter and the server unnests them, so a batch of
  // thousands of enrollments is one statement.
  await transaction(ctx.db, 'importEnrollments', async (tx) => {
    await tx.query(
      `INSERT INTO enrollments (id, channel, device_id, serial_number, user_id, user_short_name, user_long_name,
                                topic, push_token, push_magic, unlock_token, enabled, token_update_tally,
                                bootstrap_token, last_seen_at, created_at, updated_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::text[], $9::text[], $10::text[], $11::bytea[], $12::boolean[], $13::int[],
                            $14::bytea[], $15::timestamptz[], $16::timestamptz[], $17::timestamptz[])
       ON CONFLICT (id) DO UPDATE SET
         channel = EXCLUDED.channel, device_id = EXCLUDED.device_id, serial_number = EXCLUDED.serial_number,
         user_id = EXCLUDED.user_id, user_short_name = EXCLUDED.user_short_name,
         user_long_name = EXCLUDED.user_long_name, topic = EXCLUDED.topic, push_token = EXCLUDED.push_token,
         push_magic = EXCLUDED.push_magic, unlock_token = EXCLUDED.unlock_token, enabled = EXCLUDED.enabled,
         token_update_tally = EXCLUDED.token_update_tally, bootstrap_token = EXCLUDED.bootstrap_token,
         last_seen_at = EXCLUDED.last_seen_at, created_at = EXCLUDED.created_at,
         updated_at = EXCLUDED.updated_at`,
      [
        column((i) => i.enrollment.id),
        column((i) => i.enrollment.channel),
        column((i) => i.enrollment.deviceId),
        column((i) => optionalText(ctx, 'serialNumber', i.enrollment.serialNumber)),
        column((i) => optionalText(ctx, 'userId', i.enrollment.userId)),
        column((i) => optionalText(ctx, 'userShortName', i.enrollment.userShortName)),
        column((i) => optionalText(ctx, 'userLongName', i.enrollment.userLongName)),
        column((i) => optionalText(ctx, 'topic', i.enrollment.topic)),
        column((i) => optionalText(ctx, 'pushToken', i.enrollment.pushToken)),
        column((i) => optionalText(ctx, 'pushMagic', i.enrollment.pushMagic)),
        column((i) => (i.enrollment.unlockToken ? Buffer.from(i.enrollment.unlockToken) : null)),
        column((i) => Boolean(i.enrollment.enabled)),
        column((i) => (Number.isInteger(i.enrollment.tokenUpdateTally) ? i.enrollment.tokenUpdateTally : 0)),
        column((i) => (i.bootstrapToken ? Buffer.from(i.bootstrapToken) : null)),
        column((i) => i.enrollment.lastSeenAt ?? null),
        column((i) => i.enrollment.createdAt),
        column((i) => i.enrollment.updatedAt),
      ],
    );
    if (hashes.length === 0) return;
    const now = new Date();
    await tx.query(
      `INSERT INTO certificate_associations (cert_hash, enrollment_id, created_at)
       SELECT h, e, $3 FROM unnest($1::text[], $2::text[]) AS t(h, e)
       ON CONFLICT (cert_hash) DO NOTHING`,
      [hashes, hashes.map((h) => owners.get(h)!), now],
    );
    const { rows } = await tx.query<{ cert_hash: string; enrollment_id: string }>(
      'SELECT cert_hash, enrollment_id FROM certificate_associations WHERE cert_hash = ANY($1::text[])',
      [hashes],
    );
    if (rows.some((r) => owners.get(r.cert_hash) !== r.enrollment_id)) {
      throw core.certificateTaken();
    }
  });
  for (const item of items) ctx.lastSeenWritten.delete(item.enrollment.id);
  return items.length;
}
