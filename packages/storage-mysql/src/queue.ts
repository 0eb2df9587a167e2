import * as mdm from '@mdmkit/storage';
import type mysql from 'mysql2/promise';
import { type Ctx, date } from './context';
import * as core from '@mdmkit/storage/sql';
import { isDuplicateKey } from './errors';
import { insertOutbox } from './outbox-store';
import { buf, execute, type Header, transaction } from './pool';

type CommandRow = mysql.RowDataPacket & core.CommandRow;

/** Rows per multi-row INSERT of the fan-out: about 0.5 MB per statement, far below max_allowed_packet. */
const fanOutBatch = 5_000;

/**
 * Stores the command once and one small queue row per enrollment with multi-row INSERTs in large
 * batches, all in one transaction. Ids are sorted so that concurrent fan-outs take index locks in
 * the same order and cannot deadlock each other.
 */
export async function enqueueCommand(
  ctx: Ctx,
  command: mdm.CommandInput,
  enrollmentIds: string[],
): Promise<void> {
  const { priority, notBefore, expiresAt, ids } = core.prepareEnqueue(ctx.limits, command, enrollmentIds);
  await transaction(ctx.db, 'enqueueCommand', async (tx) => {
    let seq: number;
    try {
      const [r] = await tx.execute<Header>(
        `INSERT INTO commands (command_uuid, request_type, payload, priority, not_before, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [command.uuid, command.requestType, buf(command.payload), priority, notBefore, expiresAt, new Date()],
      );
      seq = r.insertId;
    } catch (e) {
      if (isDuplicateKey(e)) {
        throw new mdm.StorageError(
          'CONFLICT',
          `command UUID ${JSON.stringify(command.uuid)} is already used`,
        );
      }
      throw e;
    }
    for (let i = 0; i < ids.length; i += fanOutBatch) {
      const rows = ids.slice(i, i + fanOutBatch).map((id) => [id, seq, priority]);
      await tx.query('INSERT INTO queue (enrollment_id, command_seq, priority) VALUES ?', [rows]);
    }
  });
}

const pickColumns =
  'c.command_uuid, c.request_type, c.payload, c.priority, c.not_before, c.expires_at, c.created_at';
// Due, unexpired, optionally not NotNow'd; highest priority first, FIFO by seq within a priority.
const pickSql = (skipNotNow: boolean) =>
  `SELECT ${pickColumns} FROM queue q JOIN commands c ON c.seq = q.command_seq
   WHERE q.enrollment_id = ?
     AND (c.not_before IS NULL OR c.not_before <= ?)
     AND (c.expires_at IS NULL OR c.expires_at > ?)
     ${skipNotNow ? 'AND q.last_status IS NULL' : ''}
   ORDER BY q.priority DESC, q.command_seq LIMIT 1`;

function laneKey(ctx: Ctx, id: string): string {
  return `${ctx.db.safeUrl}\u0000${id}`;
}

export async function nextCommand(
  ctx: Ctx,
  id: string,
  options: mdm.NextCommandOptions = {},
): Promise<mdm.QueuedCommand | undefined> {
  mdm.checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const now = options.now === undefined ? new Date() : date('now', options.now);
  return core.inLane(laneKey(ctx, id), () =>
    execute<CommandRow[]>(ctx.db, 'nextCommand', pickSql(Boolean(options.skipNotNow)), [id, now, now]).then(
      (rows) => (rows[0] ? core.toQueuedCommand(rows[0]) : undefined),
    ),
  );
}

/**
 * Stores a report and picks the next command in one round trip: a stored procedure (see the schema)
 * runs the transaction inside the server, locking the queue row first (DELETE or UPDATE by primary
 * key), then inserting the result, then picking with a fresh READ COMMITTED read, so it never returns
 * the command just finished. Concurrent reports for one command serialise on the queue row: the
 * second finds it gone and reports `duplicate` without writing.
 */
export function recordResult(
  ctx: Ctx,
  report: mdm.CommandReport,
  options: { now?: Date } = {},
): Promise<mdm.RecordResultResponse> {
  return core.recordReport(ctx.limits, report, options, {
    lane: (id) => laneKey(ctx, id),
    storeEvents: (events) => transaction(ctx.db, 'recordResult', (tx) => insertOutbox(tx, events)),
    pick: (id, now) =>
      execute<CommandRow[]>(ctx.db, 'recordResult', pickSql(false), [id, now, now]).then((rows) =>
        rows[0] ? core.toQueuedCommand(rows[0]) : undefined,
      ),
    record: (r) => (r.events.length > 0 ? recordWithEvents(ctx, r) : recordInProcedure(ctx, r)),
  });
}

async function recordInProcedure(ctx: Ctx, r: core.CheckedCommandReport): Promise<mdm.RecordResultResponse> {
  const sets = await execute<mysql.RowDataPacket[][]>(
    ctx.db,
    'recordResult',
    'CALL mdmkit_record_result(?, ?, ?, ?, ?)',
    [r.id, r.uuid, r.status, buf(r.payload), r.now],
  );
  const row = sets[0]?.[0] as (CommandRow & { changed: number; existed: number }) | undefined;
  if (!row) throw new mdm.StorageError('UNAVAILABLE', 'recordResult: the server returned no result row');
  return core.withNext(
    core.reportOutcome(Number(row.changed), Number(row.existed)),
    row.command_uuid === null ? undefined : core.toQueuedCommand(row),
  );
}

/**
 * The same steps as the `mdmkit_record_result` procedure, run from the client in one transaction so
 * the report's outbox events commit with its result (a procedure's own START TRANSACTION would
 * commit an enclosing one). Same lock order: queue row, result row, then the outbox rows.
 */
async function recordWithEvents(ctx: Ctx, r: core.CheckedCommandReport): Promise<mdm.RecordResultResponse> {
  const { id, uuid, status, now, events } = r;
  const payload = buf(r.payload);
  return transaction(ctx.db, 'recordResult', async (tx) => {
    const [cmd] = await tx.execute<mysql.RowDataPacket[]>(
      // A locking read, so the snapshot of the later plain reads is taken after the queue row's wait.
      'SELECT seq, request_type FROM commands WHERE command_uuid = ? LOCK IN SHARE MODE',
      [uuid],
    );
    let changed = 0;
    if (cmd[0]) {
      const seq = cmd[0].seq as number;
      if (status === 'NotNow') {
        const [r] = await tx.execute<Header>(
          `UPDATE queue SET last_status = 'NotNow', not_now_count = not_now_count + 1, last_status_at = ?
           WHERE enrollment_id = ? AND command_seq = ?`,
          [now, id, seq],
        );
        changed = r.affectedRows;
      } else {
        const [r] = await tx.execute<Header>(
          'DELETE FROM queue WHERE enrollment_id = ? AND command_seq = ?',
          [id, seq],
        );
        changed = r.affectedRows;
        if (changed > 0) {
          await tx.execute(
            `INSERT INTO results (enrollment_id, command_uuid, request_type, status, payload, received_at)
             VALUES (?, ?, ?, ?, ?, ?)`,
            [id, uuid, cmd[0].request_type as string, status, payload, now],
          );
        }
      }
    }
    let existed = 0;
    if (changed === 0) {
      const [rows] = await tx.execute<mysql.RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM results WHERE enrollment_id = ? AND command_uuid = ?',
        [id, uuid],
      );
      existed = Number(rows[0]?.n ?? 0);
    }
    await insertOutbox(tx, events);
    const [picked] = await tx.execute<CommandRow[] & mysql.RowDataPacket[]>(pickSql(status === 'NotNow'), [
      id,
      now,
      now,
    ]);
    return core.withNext(
      core.reportOutcome(changed, existed),
      picked[0] ? core.toQueuedCommand(picked[0]) : undefined,
    );
  });
}

export async function listQueue(ctx: Ctx, id: string): Promise<mdm.QueueEntry[]> {
  mdm.checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const rows = await execute<(CommandRow & core.QueueEntryRow)[]>(
    ctx.db,
    'listQueue',
    `SELECT ${pickColumns}, q.last_status, q.not_now_count, q.last_status_at
     FROM queue q JOIN commands c ON c.seq = q.command_seq
     WHERE q.enrollment_id = ? ORDER BY q.priority DESC, q.command_seq`,
    [id],
  );
  return rows.map((r) => core.toQueueEntry(id, r));
}

export async function clearQueue(ctx: Ctx, id: string): Promise<number> {
  mdm.checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const r = await execute<Header>(ctx.db, 'clearQueue', 'DELETE FROM queue WHERE enrollment_id = ?', [id]);
  return r.affectedRows;
}

type ResultRow = mysql.RowDataPacket & core.ResultRow;

export function getResults(ctx: Ctx, commandUuid: string): Promise<mdm.CommandResult[]> {
  return core.resultsOf(ctx.limits, commandUuid, (uuid) =>
    execute<ResultRow[]>(
      ctx.db,
      'getResults',
      `SELECT ${core.resultColumns} FROM results WHERE command_uuid = ? ORDER BY id`,
      [uuid],
    ),
  );
}

export function listHistory(
  ctx: Ctx,
  id: string,
  options: mdm.PageOptions = {},
): Promise<mdm.Page<mdm.CommandResult>> {
  return core.historyPage(ctx.limits, id, options, (after, rows) =>
    execute<ResultRow[]>(
      ctx.db,
      'listHistory',
      `SELECT ${core.resultColumns} FROM results
       WHERE enrollment_id = ? ${after === null ? '' : 'AND id < ?'} ORDER BY id DESC LIMIT ${rows}`,
      after === null ? [id] : [id, after],
    ),
  );
}

/** Deletes in batches of this many commands per transaction, so locks stay short. */
const deleteBatch = 500;

export async function deleteFinishedCommands(ctx: Ctx, before: Date): Promise<number> {
  date('before', before);
  let total = 0;
  for (;;) {
    const deleted = await transaction(ctx.db, 'deleteFinishedCommands', async (tx) => {
      // SKIP LOCKED: a command some other connection is touching is left for the next run.
      const [doomed] = await tx.query<mysql.RowDataPacket[]>(
        `SELECT c.seq, c.command_uuid FROM commands c
         WHERE NOT EXISTS (SELECT 1 FROM queue q WHERE q.command_seq = c.seq)
           AND COALESCE((SELECT MAX(r.received_at) FROM results r WHERE r.command_uuid = c.command_uuid),
                        c.created_at) < ?
         ORDER BY c.seq LIMIT ${deleteBatch} FOR UPDATE SKIP LOCKED`,
        [before],
      );
      if (doomed.length === 0) return 0;
      const uuids = doomed.map((d) => d.command_uuid as string);
      await tx.query('DELETE FROM results WHERE command_uuid IN (?)', [uuids]);
      const [r] = await tx.query<Header>('DELETE FROM commands WHERE command_uuid IN (?)', [uuids]);
      return r.affectedRows;
    });
    total += deleted;
    if (deleted < deleteBatch) return total;
  }
}
