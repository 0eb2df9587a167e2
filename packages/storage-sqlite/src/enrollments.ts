// Check-in, enrollment lookup, bootstrap token, certificate association and transfer operations.
import {
  type AuthenticateInput,
  checkBytes,
  checkDate,
  checkKey,
  checkOutboxEvents,
  type EnrollmentExport,
  type EnrollmentRecord,
  type OutboxWrite,
  type Page,
  type PageOptions,
  StorageError,
  type TokenUpdateInput,
  type UserAuthenticateInput,
} from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import type { Row } from './io';
import { insertOutbox } from './outbox-store';
import { buf, dated, ms } from './values';

/** A row of `core.enrollmentColumns` (plus any others) as the core's mapper reads it. */
export function toEnrollment(r: Row): EnrollmentRecord {
  return core.toEnrollment(dated(r, 'last_seen_at', 'created_at', 'updated_at'));
}

export async function authenticate(ctx: Ctx, input: AuthenticateInput): Promise<void> {
  const { serialNumber: serial, topic, raw, events } = core.checkAuthenticate(ctx, input);
  await ctx.write(() => {
    const now = Date.now();
    insertOutbox(ctx, events);
    ctx
      .stmt(
        `INSERT INTO enrollments (id, channel, device_id, serial_number, topic, enabled, token_update_tally, last_message, created_at, updated_at)
         VALUES (?, 'device', ?, ?, ?, 0, 0, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET channel = 'device', device_id = excluded.device_id,
           serial_number = COALESCE(excluded.serial_number, serial_number), topic = COALESCE(excluded.topic, topic),
           enabled = 0, token_update_tally = 0, last_message = excluded.last_message, updated_at = excluded.updated_at`,
      )
      .run(input.id, input.id, serial, topic, buf(raw ?? undefined), now, now);
    // a new Authenticate starts the whole enrollment over, user channels and queues included
    ctx
      .stmt(
        `DELETE FROM queue WHERE enrollment_id = ?
           OR enrollment_id IN (SELECT id FROM enrollments WHERE device_id = ? AND channel = 'user')`,
      )
      .run(input.id, input.id);
    ctx
      .stmt(
        `UPDATE enrollments SET enabled = 0, token_update_tally = 0, updated_at = ?
         WHERE device_id = ? AND channel = 'user' AND (enabled = 1 OR token_update_tally <> 0)`,
      )
      .run(now, input.id);
  });
}

export async function tokenUpdate(ctx: Ctx, input: TokenUpdateInput): Promise<number> {
  const deviceId = core.checkTokenUpdate(ctx.limits, input);
  checkBytes('raw message', input.raw, ctx.limits.maxBlobBytes);
  const userId = core.optionalText(ctx, 'userId', input.userId);
  const userShortName = core.optionalText(ctx, 'userShortName', input.userShortName);
  const userLongName = core.optionalText(ctx, 'userLongName', input.userLongName);
  const events = checkOutboxEvents(ctx.limits, input.outbox);
  return ctx.write(() => {
    const now = Date.now();
    insertOutbox(ctx, events);
    const row = ctx
      .stmt(
        `INSERT INTO enrollments (id, channel, device_id, user_id, user_short_name, user_long_name, topic, push_token,
           push_magic, unlock_token, enabled, token_update_tally, last_message, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, device_id = excluded.device_id,
           user_id = COALESCE(excluded.user_id, user_id), user_short_name = COALESCE(excluded.user_short_name, user_short_name),
           user_long_name = COALESCE(excluded.user_long_name, user_long_name), topic = excluded.topic,
           push_token = excluded.push_token, push_magic = excluded.push_magic,
           unlock_token = COALESCE(excluded.unlock_token, unlock_token), enabled = 1,
           token_update_tally = token_update_tally + 1, last_message = COALESCE(excluded.last_message, last_message),
           updated_at = excluded.updated_at
         RETURNING token_update_tally`,
      )
      .get(
        input.id,
        input.channel,
        deviceId,
        userId,
        userShortName,
        userLongName,
        input.topic,
        input.pushToken,
        input.pushMagic,
        buf(input.unlockToken),
        buf(input.raw),
        now,
        now,
      ) as Row;
    return row.token_update_tally as number;
  });
}

export async function userAuthenticate(ctx: Ctx, input: UserAuthenticateInput): Promise<void> {
  const { userId, userShortName, userLongName, raw, events } = core.checkUserAuthenticate(ctx, input);
  await ctx.write(() => {
    const now = Date.now();
    insertOutbox(ctx, events);
    ctx
      .stmt(
        `INSERT INTO enrollments (id, channel, device_id, user_id, user_short_name, user_long_name, enabled,
           token_update_tally, last_message, created_at, updated_at)
         VALUES (?, 'user', ?, ?, ?, ?, 0, 0, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET channel = 'user', device_id = excluded.device_id,
           user_id = COALESCE(excluded.user_id, user_id), user_short_name = COALESCE(excluded.user_short_name, user_short_name),
           user_long_name = COALESCE(excluded.user_long_name, user_long_name),
           last_message = COALESCE(excluded.last_message, last_message), updated_at = excluded.updated_at`,
      )
      .run(input.id, input.deviceId, userId, userShortName, userLongName, buf(raw ?? undefined), now, now);
  });
}

export async function checkOut(ctx: Ctx, id: string, options?: OutboxWrite): Promise<void> {
  checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const events = checkOutboxEvents(ctx.limits, options?.outbox);
  await ctx.write(() => {
    const now = Date.now();
    insertOutbox(ctx, events);
    const row = ctx.stmt('SELECT channel FROM enrollments WHERE id = ?').get(id) as Row | undefined;
    if (!row) return;
    ctx.stmt('UPDATE enrollments SET enabled = 0, updated_at = ? WHERE id = ?').run(now, id);
    if (row.channel === 'device') {
      ctx
        .stmt(
          "UPDATE enrollments SET enabled = 0, updated_at = ? WHERE device_id = ? AND channel = 'user' AND enabled = 1",
        )
        .run(now, id);
    }
  });
}

export async function getEnrollment(ctx: Ctx, id: string): Promise<EnrollmentRecord | undefined> {
  ctx.check();
  const row = ctx.stmt(`SELECT ${core.enrollmentColumns} FROM enrollments WHERE id = ?`).get(id) as
    | Row
    | undefined;
  return row ? toEnrollment(row) : undefined;
}

export async function putBootstrapToken(ctx: Ctx, id: string, token: Uint8Array): Promise<void> {
  checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  if (!(token instanceof Uint8Array))
    throw new StorageError('INVALID_INPUT', 'bootstrap token must be bytes');
  checkBytes('bootstrap token', token, ctx.limits.maxBlobBytes);
  const changed = await ctx.write(
    () => ctx.stmt('UPDATE enrollments SET bootstrap_token = ? WHERE id = ?').run(buf(token), id).changes,
  );
  if (changed === 0) throw new StorageError('NOT_FOUND', 'no such enrollment');
}

export async function getBootstrapToken(ctx: Ctx, id: string): Promise<Uint8Array | undefined> {
  ctx.check();
  const row = ctx.stmt('SELECT bootstrap_token FROM enrollments WHERE id = ?').get(id) as Row | undefined;
  return core.bytes(row?.bootstrap_token as Uint8Array | null | undefined);
}

export async function touchLastSeen(ctx: Ctx, id: string, at: Date = new Date()): Promise<boolean> {
  ctx.check();
  return core.coalescedLastSeen(ctx, id, at, async (cutoff) => {
    const changed = await ctx.write(
      () =>
        ctx
          .stmt(
            'UPDATE enrollments SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at <= ?)',
          )
          .run(at.getTime(), id, cutoff.getTime()).changes,
    );
    return changed === 1;
  });
}

/** Binds `certHash` to `id` unless another enrollment has it; returns the owner. Synchronous, inside a write. */
function bind(ctx: Ctx, id: string, certHash: string): unknown {
  ctx
    .stmt(
      'INSERT INTO cert_associations (cert_hash, enrollment_id, created_at) VALUES (?, ?, ?) ON CONFLICT (cert_hash) DO NOTHING',
    )
    .run(certHash, id, Date.now());
  return (ctx.stmt('SELECT enrollment_id FROM cert_associations WHERE cert_hash = ?').get(certHash) as Row)
    .enrollment_id;
}

export async function associateCertificate(ctx: Ctx, id: string, certHash: string): Promise<void> {
  checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  checkKey('certificate hash', certHash, ctx.limits.maxKeyLength);
  const owner = await ctx.write(() => bind(ctx, id, certHash));
  if (owner !== id) throw core.certificateTaken();
}

export async function replaceCertificate(ctx: Ctx, id: string, certHash: string): Promise<void> {
  checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  checkKey('certificate hash', certHash, ctx.limits.maxKeyLength);
  await ctx.write(() => {
    // Thrown inside the write, so its savepoint rolls back and nothing is unbound.
    if (bind(ctx, id, certHash) !== id) throw core.certificateTaken();
    ctx.stmt('DELETE FROM cert_associations WHERE enrollment_id = ? AND cert_hash <> ?').run(id, certHash);
  });
}

export async function enrollmentForCertificate(ctx: Ctx, certHash: string): Promise<string | undefined> {
  ctx.check();
  const row = ctx.stmt('SELECT enrollment_id FROM cert_associations WHERE cert_hash = ?').get(certHash) as
    | Row
    | undefined;
  return row?.enrollment_id as string | undefined;
}

export async function isCertificateAssociated(ctx: Ctx, id: string, certHash: string): Promise<boolean> {
  return (await enrollmentForCertificate(ctx, certHash)) === id;
}

export async function exportEnrollments(
  ctx: Ctx,
  options: PageOptions = {},
): Promise<Page<EnrollmentExport>> {
  const limit = core.pageLimit(options.limit);
  const after = core.exportCursor(options);
  return ctx.read(() => {
    const rows = (
      after === null
        ? ctx.stmt('SELECT * FROM enrollments ORDER BY id LIMIT ?').all(limit + 1)
        : ctx.stmt('SELECT * FROM enrollments WHERE id > ? ORDER BY id LIMIT ?').all(after, limit + 1)
    ) as (Row & { bootstrap_token: Uint8Array | null })[];
    const ids = JSON.stringify(rows.slice(0, limit).map((r) => r.id));
    const hashes = new Map<string, string[]>();
    for (const h of ctx
      .stmt(
        'SELECT cert_hash, enrollment_id FROM cert_associations WHERE enrollment_id IN (SELECT value FROM json_each(?)) ORDER BY cert_hash',
      )
      .all(ids) as Row[]) {
      const list = hashes.get(h.enrollment_id as string) ?? [];
      list.push(h.cert_hash as string);
      hashes.set(h.enrollment_id as string, list);
    }
    return core.exportPage(rows, limit, toEnrollment, (_, e) => hashes.get(e.id) ?? []);
  });
}

export async function importEnrollments(ctx: Ctx, items: EnrollmentExport[]): Promise<number> {
  const { items: sorted, owners, hashes } = core.prepareImport(ctx.limits, items);
  for (const it of sorted) checkDate('lastSeenAt', it.enrollment.lastSeenAt, true);
  const text = (what: string, s: unknown) => core.optionalText(ctx, what, s);
  await ctx.write(() => {
    const owner = ctx.stmt('SELECT enrollment_id FROM cert_associations WHERE cert_hash = ?');
    for (const h of hashes) {
      const row = owner.get(h) as Row | undefined;
      if (row && row.enrollment_id !== owners.get(h)) throw core.certificateTaken();
    }
    const upsert = ctx.stmt(
      `INSERT INTO enrollments (id, channel, device_id, serial_number, user_id, user_short_name, user_long_name, topic,
         push_token, push_magic, unlock_token, enabled, token_update_tally, last_seen_at, bootstrap_token, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, device_id = excluded.device_id,
         serial_number = excluded.serial_number, user_id = excluded.user_id, user_short_name = excluded.user_short_name,
         user_long_name = excluded.user_long_name, topic = excluded.topic, push_token = excluded.push_token,
         push_magic = excluded.push_magic, unlock_token = excluded.unlock_token, enabled = excluded.enabled,
         token_update_tally = excluded.token_update_tally, last_seen_at = excluded.last_seen_at,
         bootstrap_token = COALESCE(excluded.bootstrap_token, bootstrap_token), created_at = excluded.created_at,
         updated_at = excluded.updated_at`,
    );
    for (const { enrollment: e, bootstrapToken } of sorted) {
      upsert.run(
        e.id,
        e.channel,
        e.deviceId,
        text('serialNumber', e.serialNumber),
        text('userId', e.userId),
        text('userShortName', e.userShortName),
        text('userLongName', e.userLongName),
        text('topic', e.topic),
        text('pushToken', e.pushToken),
        text('pushMagic', e.pushMagic),
        buf(e.unlockToken),
        e.enabled ? 1 : 0,
        Number.isInteger(e.tokenUpdateTally) ? e.tokenUpdateTally : 0,
        ms(e.lastSeenAt),
        buf(bootstrapToken),
        e.createdAt.getTime(),
        e.updatedAt.getTime(),
      );
    }
    const insert = ctx.stmt(
      'INSERT INTO cert_associations (cert_hash, enrollment_id, created_at) VALUES (?, ?, ?) ON CONFLICT (cert_hash) DO NOTHING',
    );
    const now = Date.now();
    for (const h of hashes) insert.run(h, owners.get(h), now);
  });
  for (const it of sorted) ctx.lastSeenWritten.delete(it.enrollment.id);
  return items.length;
}
