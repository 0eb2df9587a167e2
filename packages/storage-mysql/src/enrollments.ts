import * as mdm from '@mdmkit/storage';
import type mysql from 'mysql2/promise';
import { bytes, type Ctx, optionalText } from './context';
import * as core from '@mdmkit/storage/sql';
import { isDuplicateKey, toStorageError } from './errors';
import { insertOutbox } from './outbox-store';
import { buf, execute, type Header, query, transaction } from './pool';

export type EnrollmentRow = mysql.RowDataPacket & core.EnrollmentRow;

export async function authenticate(ctx: Ctx, input: mdm.AuthenticateInput): Promise<void> {
  const { serialNumber: serial, topic, raw, events } = core.checkAuthenticate(ctx, input);
  const message = buf(raw);
  const now = new Date();
  // Device row first, then its user rows: the same lock order as every other multi-row write.
  await transaction(ctx.db, 'authenticate', async (tx) => {
    await tx.execute(
      `INSERT INTO enrollments (id, channel, device_id, serial_number, topic, enabled, token_update_tally,
                                last_checkin_raw, created_at, updated_at)
       VALUES (?, 'device', ?, ?, ?, 0, 0, ?, ?, ?)
       ON DUPLICATE KEY UPDATE
         channel = 'device', device_id = VALUES(device_id),
         serial_number = COALESCE(VALUES(serial_number), serial_number),
         topic = COALESCE(VALUES(topic), topic),
         enabled = 0, token_update_tally = 0,
         last_checkin_raw = COALESCE(VALUES(last_checkin_raw), last_checkin_raw),
         updated_at = VALUES(updated_at)`,
      [input.id, input.id, serial, topic, message, now, now],
    );
    await tx.execute(
      `UPDATE enrollments SET enabled = 0, token_update_tally = 0, updated_at = ?
       WHERE device_id = ? AND channel = 'user' AND (enabled = 1 OR token_update_tally <> 0)`,
      [now, input.id],
    );
    // A new Authenticate starts the whole enrollment over: its queues go too (results stay).
    await tx.execute(
      `DELETE q FROM queue q JOIN enrollments e ON q.enrollment_id = e.id
       WHERE e.device_id = ? AND (e.id = ? OR e.channel = 'user')`,
      [input.id, input.id],
    );
    await insertOutbox(tx, events);
  });
  ctx.lastSeenWritten.delete(input.id);
}

export async function tokenUpdate(ctx: Ctx, input: mdm.TokenUpdateInput): Promise<number> {
  const t = core.checkTokenUpdateInput(ctx, input);
  const { events } = t;
  // BLOBs as Buffers for the driver; the time twice, as created_at and updated_at.
  const values = [...core.tokenUpdateValues(t).map((v) => (v instanceof Uint8Array ? buf(v) : v)), t.at];
  // The upsert keeps the row locked until commit, so the tally read back is this update's own.
  return transaction(ctx.db, 'tokenUpdate', async (tx) => {
    await tx.execute(
      `INSERT INTO enrollments (id, channel, device_id, user_id, user_short_name, user_long_name, topic,
                                push_token, push_magic, unlock_token, enabled, token_update_tally,
                                last_checkin_raw, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?)
       ON DUPLICATE KEY UPDATE
         channel = VALUES(channel), device_id = VALUES(device_id),
         user_id = COALESCE(VALUES(user_id), user_id),
         user_short_name = COALESCE(VALUES(user_short_name), user_short_name),
         user_long_name = COALESCE(VALUES(user_long_name), user_long_name),
         topic = VALUES(topic), push_token = VALUES(push_token), push_magic = VALUES(push_magic),
         unlock_token = COALESCE(VALUES(unlock_token), unlock_token),
         enabled = 1, token_update_tally = token_update_tally + 1,
         last_checkin_raw = COALESCE(VALUES(last_checkin_raw), last_checkin_raw),
         updated_at = VALUES(updated_at)`,
      values,
    );
    const [rows] = await tx.execute<mysql.RowDataPacket[]>(
      'SELECT token_update_tally FROM enrollments WHERE id = ?',
      [input.id],
    );
    await insertOutbox(tx, events);
    return Number(rows[0]?.token_update_tally);
  });
}

export async function userAuthenticate(ctx: Ctx, input: mdm.UserAuthenticateInput): Promise<void> {
  const u = core.checkUserAuthenticate(ctx, input);
  const { events } = u;
  const sql = `INSERT INTO enrollments (id, channel, device_id, user_id, user_short_name, user_long_name, enabled,
                              token_update_tally, last_checkin_raw, created_at, updated_at)
     VALUES (?, 'user', ?, ?, ?, ?, 0, 0, ?, ?, ?)
     ON DUPLICATE KEY UPDATE
       channel = 'user', device_id = VALUES(device_id),
       user_id = COALESCE(VALUES(user_id), user_id),
       user_short_name = COALESCE(VALUES(user_short_name), user_short_name),
       user_long_name = COALESCE(VALUES(user_long_name), user_long_name),
       last_checkin_raw = COALESCE(VALUES(last_checkin_raw), last_checkin_raw),
       updated_at = VALUES(updated_at)`;
  const values = [u.id, u.deviceId, u.userId, u.userShortName, u.userLongName, buf(u.raw), u.at, u.at];
  if (events.length === 0) {
    await execute(ctx.db, 'userAuthenticate', sql, values);
    return;
  }
  await transaction(ctx.db, 'userAuthenticate', async (tx) => {
    await tx.execute(sql, values);
    await insertOutbox(tx, events);
  });
}

export async function checkOut(ctx: Ctx, id: string, options?: mdm.OutboxWrite): Promise<void> {
  mdm.checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const events = mdm.checkOutboxEvents(ctx.limits, options?.outbox);
  // Lock the channel itself before its user channels, matching authenticate().
  await transaction(ctx.db, 'checkOut', async (tx) => {
    const now = new Date();
    await insertOutbox(tx, events);
    const [rows] = await tx.execute<mysql.RowDataPacket[]>(
      'SELECT channel FROM enrollments WHERE id = ? FOR UPDATE',
      [id],
    );
    if (!rows[0]) return;
    await tx.execute('UPDATE enrollments SET enabled = 0, updated_at = ? WHERE id = ?', [now, id]);
    if (rows[0].channel === 'device') {
      await tx.execute(
        `UPDATE enrollments SET enabled = 0, updated_at = ?
         WHERE device_id = ? AND channel = 'user' AND enabled = 1`,
        [now, id],
      );
    }
  });
}

export async function getEnrollment(ctx: Ctx, id: string): Promise<mdm.EnrollmentRecord | undefined> {
  mdm.checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const rows = await execute<EnrollmentRow[]>(
    ctx.db,
    'getEnrollment',
    `SELECT ${core.enrollmentColumns} FROM enrollments WHERE id = ?`,
    [id],
  );
  return rows[0] ? core.toEnrollment(rows[0]) : undefined;
}

export async function putBootstrapToken(ctx: Ctx, id: string, token: Uint8Array): Promise<void> {
  core.checkBootstrapToken(ctx, id, token);
  const r = await execute<Header>(
    ctx.db,
    'putBootstrapToken',
    'UPDATE enrollments SET bootstrap_token = ?, updated_at = ? WHERE id = ?',
    [buf(token), new Date(), id],
  );
  if (r.affectedRows === 0) throw core.enrollmentNotFound(id);
}

export async function getBootstrapToken(ctx: Ctx, id: string): Promise<Uint8Array | undefined> {
  mdm.checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const rows = await execute<mysql.RowDataPacket[]>(
    ctx.db,
    'getBootstrapToken',
    'SELECT bootstrap_token FROM enrollments WHERE id = ?',
    [id],
  );
  return bytes(rows[0]?.bootstrap_token as Uint8Array | null | undefined);
}

/** Rows per multi-row INSERT of an import. */
const importBatch = 1_000;

/**
 * Coalesced last-seen write. This process skips ids it wrote recently without asking the server,
 * and the single-row UPDATE only fires when the stored time is older than the interval. A lone
 * primary-key UPDATE holds one row lock and nothing else, so it cannot take part in a deadlock.
 */
export async function touchLastSeen(ctx: Ctx, id: string, at: Date = new Date()): Promise<boolean> {
  return core.coalescedLastSeen(ctx, id, at, async (cutoff) => {
    const r = await execute<Header>(
      ctx.db,
      'touchLastSeen',
      `UPDATE enrollments SET last_seen_at = ?
     WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at <= ?)`,
      [at, id, cutoff],
    );
    return r.affectedRows > 0;
  });
}

export async function associateCertificate(ctx: Ctx, id: string, certHash: string): Promise<void> {
  core.checkCertificateAssociation(ctx, id, certHash);
  try {
    await ctx.db.pool.execute(
      'INSERT INTO certificate_associations (cert_hash, enrollment_id, created_at) VALUES (?, ?, ?)',
      [certHash, id, new Date()],
    );
    return;
  } catch (e) {
    if (!isDuplicateKey(e)) throw toStorageError(e, 'associateCertificate');
  }
  const owner = await enrollmentForCertificate(ctx, certHash);
  if (owner !== id) {
    throw core.certificateTaken();
  }
}

export async function replaceCertificate(ctx: Ctx, id: string, certHash: string): Promise<void> {
  core.checkCertificateAssociation(ctx, id, certHash);
  await transaction(ctx.db, 'replaceCertificate', async (tx) => {
    await tx.execute(
      'INSERT INTO certificate_associations (cert_hash, enrollment_id, created_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE cert_hash = cert_hash',
      [certHash, id, new Date()],
    );
    const [rows] = await tx.execute<mysql.RowDataPacket[]>(
      'SELECT enrollment_id FROM certificate_associations WHERE cert_hash = ? FOR UPDATE',
      [certHash],
    );
    if (rows[0]?.enrollment_id !== id) {
      throw core.certificateTaken();
    }
    await tx.execute('DELETE FROM certificate_associations WHERE enrollment_id = ? AND cert_hash <> ?', [
      id,
      certHash,
    ]);
  });
}

export const { enrollmentForCertificate, isCertificateAssociated } = core.certificateLookups<Ctx>(
  async (ctx, certHash) => {
    const rows = await execute<mysql.RowDataPacket[]>(
      ctx.db,
      'enrollmentForCertificate',
      'SELECT enrollment_id FROM certificate_associations WHERE cert_hash = ?',
      [certHash],
    );
    return rows[0]?.enrollment_id as string | undefined;
  },
);

export function exportEnrollments(
  ctx: Ctx,
  options: mdm.PageOptions = {},
): Promise<mdm.Page<mdm.EnrollmentExport>> {
  return core.exportWith(
    options,
    (after, rows) =>
      execute<(EnrollmentRow & core.ExportRow)[]>(
        ctx.db,
        'exportEnrollments',
        `SELECT ${core.enrollmentColumns}, bootstrap_token FROM enrollments
         WHERE (? IS NULL OR id > ?) ORDER BY id LIMIT ${rows}`,
        [after, after],
      ),
    // A second query for the page's hashes, grouped here by enrollment.
    async (page) => {
      const hashes = new Map<string, string[]>();
      if (page.length > 0) {
        const found = await query<mysql.RowDataPacket[]>(
          ctx.db,
          'exportEnrollments',
          'SELECT enrollment_id, cert_hash FROM certificate_associations WHERE enrollment_id IN (?) ORDER BY cert_hash',
          [page.map((r) => r.id)],
        );
        for (const f of found) {
          const list = hashes.get(f.enrollment_id as string) ?? [];
          list.push(f.cert_hash as string);
          hashes.set(f.enrollment_id as string, list);
        }
      }
      return (r) => hashes.get(r.id) ?? [];
    },
  );
}

export async function importEnrollments(ctx: Ctx, items: mdm.EnrollmentExport[]): Promise<number> {
  const { items: sorted, owners, hashes } = core.prepareImport(ctx.limits, items);
  const rows = sorted.map(({ enrollment: e, bootstrapToken }) => [
    e.id,
    e.channel,
    e.deviceId,
    optionalText(ctx, 'serialNumber', e.serialNumber),
    optionalText(ctx, 'userId', e.userId),
    optionalText(ctx, 'userShortName', e.userShortName),
    optionalText(ctx, 'userLongName', e.userLongName),
    optionalText(ctx, 'topic', e.topic),
    optionalText(ctx, 'pushToken', e.pushToken),
    optionalText(ctx, 'pushMagic', e.pushMagic),
    buf(e.unlockToken),
    e.enabled ? 1 : 0,
    Number.isInteger(e.tokenUpdateTally) ? e.tokenUpdateTally : 0,
    buf(bootstrapToken),
    e.lastSeenAt ?? null,
    e.createdAt,
    e.updatedAt,
  ]);
  // Multi-row statements in batches; one transaction for the whole import.
  await transaction(ctx.db, 'importEnrollments', async (tx) => {
    for (let i = 0; i < rows.length; i += importBatch) {
      await tx.query(
        `INSERT INTO enrollments (id, channel, device_id, serial_number, user_id, user_short_name, user_long_name,
                                  topic, push_token, push_magic, unlock_token, enabled, token_update_tally,
                                  bootstrap_token, last_seen_at, created_at, updated_at)
         VALUES ?
         ON DUPLICATE KEY UPDATE
           channel = VALUES(channel), device_id = VALUES(device_id), serial_number = VALUES(serial_number),
           user_id = VALUES(user_id), user_short_name = VALUES(user_short_name),
           user_long_name = VALUES(user_long_name), topic = VALUES(topic), push_token = VALUES(push_token),
           push_magic = VALUES(push_magic), unlock_token = VALUES(unlock_token), enabled = VALUES(enabled),
           token_update_tally = VALUES(token_update_tally), bootstrap_token = VALUES(bootstrap_token),
           last_seen_at = VALUES(last_seen_at), created_at = VALUES(created_at), updated_at = VALUES(updated_at)`,
        [rows.slice(i, i + importBatch)],
      );
    }
    const now = new Date();
    for (let i = 0; i < hashes.length; i += importBatch) {
      const chunk = hashes.slice(i, i + importBatch);
      await tx.query(
        `INSERT INTO certificate_associations (cert_hash, enrollment_id, created_at) VALUES ?
         ON DUPLICATE KEY UPDATE cert_hash = cert_hash`,
        [chunk.map((h) => [h, owners.get(h)!, now])],
      );
      const [found] = await tx.query<mysql.RowDataPacket[]>(
        'SELECT cert_hash, enrollment_id FROM certificate_associations WHERE cert_hash IN (?)',
        [chunk],
      );
      if (found.some((r) => owners.get(r.cert_hash as string) !== r.enrollment_id)) {
        throw core.certificateTaken();
      }
    }
  });
  for (const item of items) ctx.lastSeenWritten.delete(item.enrollment.id);
  return items.length;
}
