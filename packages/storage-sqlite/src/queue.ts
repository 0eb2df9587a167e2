// The command queue: enqueue, delivery, results, history and clean-up.
import { checkDate, checkKey, checkOutboxEvents, checkReport, StorageError } from '@mdmkit/storage';
import type * as api from '@mdmkit/storage';
import * as core from '@mdmkit/storage/sql';
import type { Ctx } from './context';
import type { Row } from './io';
import { insertOutbox } from './outbox-store';
import { buf, dated, ms } from './values';

/** The command columns under the names `core.toQueuedCommand` reads. */
const commandColumns =
  'c.uuid AS command_uuid, c.request_type, c.payload, c.priority, c.not_before, c.expires_at, c.enqueued_at AS created_at';

/** The result columns under the names `core.toResult` reads (`id` is the history cursor). */
const resultColumns =
  'r.seq AS id, r.enrollment_id, c.uuid AS command_uuid, c.request_type, r.status, r.payload, r.received_at';

const toCommand = (r: Row): api.QueuedCommand =>
  core.toQueuedCommand(dated(r, 'not_before', 'expires_at', 'created_at'));
const toResult = (r: Row): api.CommandResult => core.toResult(dated(r, 'received_at'));

export async function enqueueCommand(
  ctx: Ctx,
  command: api.CommandInput,
  enrollmentIds: string[],
): Promise<void> {
  const { priority, notBefore, expiresAt, ids } = core.prepareEnqueue(ctx.limits, command, enrollmentIds);
  await ctx.write(() => {
    if (ctx.stmt('SELECT 1 FROM commands WHERE uuid = ?').get(command.uuid)) {
      throw new StorageError('CONFLICT', 'command uuid already exists');
    }
    const seq = ctx
      .stmt(
        `INSERT INTO commands (uuid, request_type, payload, priority, not_before, expires_at, enqueued_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        command.uuid,
        command.requestType,
        buf(command.payload),
        priority,
        ms(notBefore ?? undefined),
        ms(expiresAt ?? undefined),
        Date.now(),
      ).lastInsertRowid;
    // one statement for the whole fan-out instead of one native call per enrollment
    ctx
      .stmt('INSERT INTO queue (enrollment_id, command_seq, priority) SELECT value, ?, ? FROM json_each(?)')
      .run(seq, priority, JSON.stringify(ids));
  });
}

/** The next deliverable command of `id`. Synchronous, so recordResult picks inside its own write. */
function pick(ctx: Ctx, id: string, skipNotNow: boolean, now: number): api.QueuedCommand | undefined {
  const row = ctx
    .stmt(
      `SELECT ${commandColumns}
       FROM queue q JOIN commands c ON c.seq = q.command_seq
       WHERE q.enrollment_id = ? AND (? = 0 OR q.last_status IS NULL)
         AND (c.not_before IS NULL OR c.not_before <= ?) AND (c.expires_at IS NULL OR c.expires_at > ?)
       ORDER BY q.priority DESC, q.command_seq LIMIT 1`,
    )
    .get(id, skipNotNow ? 1 : 0, now, now) as Row | undefined;
  return row ? toCommand(row) : undefined;
}

export async function nextCommand(
  ctx: Ctx,
  id: string,
  options: api.NextCommandOptions = {},
): Promise<api.QueuedCommand | undefined> {
  checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  checkDate('now', options.now, true);
  ctx.check();
  return pick(ctx, id, options.skipNotNow ?? false, (options.now ?? new Date()).getTime());
}

export async function recordResult(
  ctx: Ctx,
  report: api.CommandReport,
  options: { now?: Date } = {},
): Promise<api.RecordResultResponse> {
  const uuid = checkReport(report, ctx.limits);
  checkDate('now', options.now, true);
  const now = (options.now ?? new Date()).getTime();
  const id = report.enrollmentId;
  const skip = report.status === 'NotNow';
  const respond = (outcome: api.RecordResultResponse['outcome']): api.RecordResultResponse => {
    const next = pick(ctx, id, skip, now);
    return next ? { outcome, next } : { outcome };
  };
  const events = checkOutboxEvents(ctx.limits, report.outbox);
  if (uuid === undefined) {
    ctx.check();
    if (events.length > 0) await ctx.write(() => insertOutbox(ctx, events));
    return respond('idle');
  }
  return ctx.write(() => {
    insertOutbox(ctx, events);
    const cmd = ctx.stmt('SELECT seq FROM commands WHERE uuid = ?').get(uuid) as Row | undefined;
    if (!cmd) return respond('unknown');
    const seq = cmd.seq as number;
    if (report.status === 'NotNow') {
      const changed = ctx
        .stmt(
          `UPDATE queue SET last_status = 'NotNow', not_now_count = not_now_count + 1, last_status_at = ?
           WHERE enrollment_id = ? AND command_seq = ?`,
        )
        .run(now, id, seq).changes;
      if (changed === 1) return respond('stored');
    } else {
      const changed = ctx
        .stmt('DELETE FROM queue WHERE enrollment_id = ? AND command_seq = ?')
        .run(id, seq).changes;
      if (changed === 1) {
        ctx
          .stmt(
            'INSERT INTO results (enrollment_id, command_seq, status, payload, received_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(id, seq, report.status, buf(report.payload ?? new Uint8Array()), now);
        return respond('stored');
      }
    }
    const done = ctx.stmt('SELECT 1 FROM results WHERE enrollment_id = ? AND command_seq = ?').get(id, seq);
    return respond(done ? 'duplicate' : 'unknown');
  });
}

export async function listQueue(ctx: Ctx, id: string): Promise<api.QueueEntry[]> {
  ctx.check();
  const rows = ctx
    .stmt(
      `SELECT ${commandColumns}, q.last_status, q.not_now_count, q.last_status_at
       FROM queue q JOIN commands c ON c.seq = q.command_seq
       WHERE q.enrollment_id = ? ORDER BY q.priority DESC, q.command_seq`,
    )
    .all(id) as Row[];
  return rows.map((r) => {
    const e: api.QueueEntry = { ...toCommand(r), enrollmentId: id, notNowCount: r.not_now_count as number };
    if (r.last_status === 'NotNow') e.lastStatus = 'NotNow';
    if (r.last_status_at != null) e.lastStatusAt = new Date(r.last_status_at as number);
    return e;
  });
}

export async function clearQueue(ctx: Ctx, id: string): Promise<number> {
  checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  return ctx.write(() => ctx.stmt('DELETE FROM queue WHERE enrollment_id = ?').run(id).changes);
}

export async function getResults(ctx: Ctx, commandUuid: string): Promise<api.CommandResult[]> {
  ctx.check();
  const rows = ctx
    .stmt(
      `SELECT ${resultColumns} FROM commands c JOIN results r ON r.command_seq = c.seq WHERE c.uuid = ? ORDER BY r.seq`,
    )
    .all(commandUuid) as Row[];
  return rows.map(toResult);
}

export async function listHistory(
  ctx: Ctx,
  id: string,
  options: api.PageOptions = {},
): Promise<api.Page<api.CommandResult>> {
  ctx.check();
  const limit = core.pageLimit(options.limit);
  const after = core.historyCursor(options);
  const rows = ctx
    .stmt(
      `SELECT ${resultColumns} FROM results r JOIN commands c ON c.seq = r.command_seq
       WHERE r.enrollment_id = ? AND r.seq < ? ORDER BY r.seq DESC LIMIT ?`,
    )
    .all(id, after === null ? Number.MAX_SAFE_INTEGER : Number(after), limit + 1) as (Row & { id: number })[];
  return core.pageOf(rows, limit, toResult);
}

export async function deleteFinishedCommands(ctx: Ctx, before: Date): Promise<number> {
  checkDate('before', before);
  return ctx.write(() => {
    const seqs = ctx
      .stmt(
        `SELECT c.seq FROM commands c
         WHERE c.seq NOT IN (SELECT command_seq FROM queue)
           AND COALESCE((SELECT max(r.received_at) FROM results r WHERE r.command_seq = c.seq), c.enqueued_at) < ?`,
      )
      .all(before.getTime())
      .map((r) => (r as Row).seq);
    const delResults = ctx.stmt('DELETE FROM results WHERE command_seq = ?');
    const delCommand = ctx.stmt('DELETE FROM commands WHERE seq = ?');
    for (const seq of seqs) {
      delResults.run(seq);
      delCommand.run(seq);
    }
    return seqs.length;
  });
}
