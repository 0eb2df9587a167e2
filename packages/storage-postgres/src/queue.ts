import * as mdm from '@mdmkit/storage';
import { type Ctx, date } from './context';
import * as core from '@mdmkit/storage/sql';
import { query, transaction, type Tx } from './pool';
import { insertOutbox } from './outbox-store';

/** Runs one statement: on the pool, or on the client of an open transaction. */
type Run = <R extends Record<string, unknown>>(
  what: string,
  text: string,
  values: unknown[],
  prepared?: string,
) => Promise<{ rows: R[] }>;

const onTx =
  (tx: Tx): Run =>
  (_what, text, values, prepared) =>
    tx.query(prepared ? { name: prepared, text, values } : { text, values });

/** Rows per INSERT of the fan-out; one array parameter each, so the statement stays small. */
const fanOutBatch = 50_000;

/**
 * Stores the command once and one small queue row per enrollment, set-based: the ids travel as one
 * array parameter per batch and are unnested by the server, so 100,000 targets take a few statements.
 * Ids are sorted so that concurrent fan-outs touch index pages in the same order.
 */
export async function enqueueCommand(
  ctx: Ctx,
  command: mdm.CommandInput,
  enrollmentIds: string[],
): Promise<void> {
  const { priority, notBefore, expiresAt, ids } = core.prepareEnqueue(ctx.limits, command, enrollmentIds);
  await transaction(ctx.db, 'enqueueCommand', async (tx) => {
    const inserted = await tx.query<{ seq: string }>(
      `INSERT INTO commands (command_uuid, request_type, payload, priority, not_before, expires_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (command_uuid) DO NOTHING RETURNING seq`,
      [command.uuid, command.requestType, command.payload, priority, notBefore, expiresAt, new Date()],
    );
    const seq = inserted.rows[0]?.seq;
    if (seq === undefined) {
      throw new mdm.StorageError('CONFLICT', `command UUID ${JSON.stringify(command.uuid)} is already used`);
    }
    for (let i = 0; i < ids.length; i += fanOutBatch) {
      await tx.query(
        `INSERT INTO queue (enrollment_id, command_seq, priority)
         SELECT id, $2, $3 FROM unnest($1::text[]) AS t(id)`,
        [ids.slice(i, i + fanOutBatch), seq, priority],
      );
    }
  });
}

// The pick: due, unexpired, optionally not NotNow'd; highest priority first, FIFO by seq within it.
// $1 enrollment, $2 now, $3 skip NotNow'd.
const pickWhere = `q.enrollment_id = $1
  AND (c.not_before IS NULL OR c.not_before <= $2)
  AND (c.expires_at IS NULL OR c.expires_at > $2)
  AND (NOT $3::boolean OR q.last_status IS NULL)`;
const pickColumns =
  'c.command_uuid, c.request_type, c.payload, c.priority, c.not_before, c.expires_at, c.created_at';
const pickOrder = 'ORDER BY q.priority DESC, q.command_seq LIMIT 1';
// Inside recordResult the pick shares the statement's snapshot, taken before any lock wait. A
// locking read re-checks each candidate's newest version, so a command another connection finished
// meanwhile is not handed out again; SKIP LOCKED passes over rows that are being finished right now.
// Shared locks do not conflict with each other, so parallel picks for one enrollment keep FIFO order.
const pickLock = 'FOR SHARE OF q SKIP LOCKED';

export async function nextCommand(
  ctx: Ctx,
  id: string,
  options: mdm.NextCommandOptions = {},
): Promise<mdm.QueuedCommand | undefined> {
  mdm.checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const now = options.now === undefined ? new Date() : date('now', options.now);
  return core.inLane(laneKey(ctx, id), () => pick(ctx, id, now, Boolean(options.skipNotNow)));
}

async function pick(
  ctx: Ctx,
  id: string,
  now: Date,
  skipNotNow: boolean,
): Promise<mdm.QueuedCommand | undefined> {
  const { rows } = await query<core.CommandRow>(
    ctx.db,
    'nextCommand',
    `SELECT ${pickColumns} FROM queue q JOIN commands c ON c.seq = q.command_seq WHERE ${pickWhere} ${pickOrder}`,
    [id, now, skipNotNow],
    'mdmkit_next_command',
  );
  return rows[0] ? core.toQueuedCommand(rows[0]) : undefined;
}

function laneKey(ctx: Ctx, id: string): string {
  return `${ctx.db.safeUrl}\u0000${ctx.db.schema}\u0000${id}`;
}

type PickRow = { [K in keyof core.CommandRow]: core.CommandRow[K] | null } & {
  changed: number;
  existed: boolean;
};

function picked(r: PickRow | undefined): mdm.QueuedCommand | undefined {
  return r && r.command_uuid !== null ? core.toQueuedCommand(r as core.CommandRow) : undefined;
}

/**
 * Records a report and picks the next command in ONE statement (one round trip, one implicit
 * transaction). The write lives in data-modifying CTEs; the pick runs on the statement's snapshot,
 * which still shows the row the CTE just finished or NotNow'd, so the pick excludes it by seq.
 * Concurrent reports for the same command serialise on the queue row: the second finds it gone and
 * reports `duplicate` without writing. A connection lost mid-statement rolls the whole statement
 * back, so a result is stored completely (queue row gone, result row present) or not at all.
 */
export function recordResult(
  ctx: Ctx,
  report: mdm.CommandReport,
  options: { now?: Date } = {},
): Promise<mdm.RecordResultResponse> {
  return core.recordReport(ctx.limits, report, options, {
    lane: (id) => laneKey(ctx, id),
    storeEvents: (events) => transaction(ctx.db, 'recordResult', (tx) => insertOutbox(tx, events)),
    pick: (id, now) => pick(ctx, id, now, false),
    record: (r) => {
      if (r.events.length === 0) {
        const run: Run = (what, text, values, prepared) => query(ctx.db, what, text, values, prepared);
        return record(run, r);
      }
      // The report's events commit with its result, or neither does.
      return transaction(ctx.db, 'recordResult', async (tx) => {
        const out = await record(onTx(tx), r);
        await insertOutbox(tx, r.events);
        return out;
      });
    },
  });
}

async function record(run: Run, r: core.CheckedCommandReport): Promise<mdm.RecordResultResponse> {
  const { id, uuid, status, payload, now } = r;
  let row: PickRow | undefined;
  if (status === 'NotNow') {
    ({
      rows: [row],
    } = await run<PickRow>(
      'recordResult',
      `WITH cmd AS (SELECT seq FROM commands WHERE command_uuid = $4),
       u AS (UPDATE queue q SET last_status = 'NotNow', not_now_count = q.not_now_count + 1, last_status_at = $2
             FROM cmd WHERE q.enrollment_id = $1 AND q.command_seq = cmd.seq RETURNING q.command_seq)
       SELECT (SELECT count(*) FROM u)::int AS changed,
              EXISTS (SELECT 1 FROM results WHERE command_uuid = $4 AND enrollment_id = $1) AS existed,
              n.*
       FROM (SELECT 1) AS one LEFT JOIN LATERAL (
         SELECT ${pickColumns} FROM queue q JOIN commands c ON c.seq = q.command_seq
         WHERE ${pickWhere} AND q.command_seq NOT IN (SELECT command_seq FROM u) ${pickOrder} ${pickLock}) n ON true`,
      [id, now, true, uuid],
      'mdmkit_record_not_now',
    ));
  } else {
    ({
      rows: [row],
    } = await run<PickRow>(
      'recordResult',
      `WITH cmd AS (SELECT seq, request_type FROM commands WHERE command_uuid = $4),
       d AS (DELETE FROM queue q USING cmd WHERE q.enrollment_id = $1 AND q.command_seq = cmd.seq
             RETURNING q.command_seq, cmd.request_type),
       i AS (INSERT INTO results (enrollment_id, command_uuid, request_type, status, payload, received_at)
             SELECT $1, $4, d.request_type, $5, $6, $2 FROM d RETURNING 1)
       SELECT (SELECT count(*) FROM i)::int AS changed,
              EXISTS (SELECT 1 FROM results WHERE command_uuid = $4 AND enrollment_id = $1) AS existed,
              n.*
       FROM (SELECT 1) AS one LEFT JOIN LATERAL (
         SELECT ${pickColumns} FROM queue q JOIN commands c ON c.seq = q.command_seq
         WHERE ${pickWhere} AND q.command_seq NOT IN (SELECT command_seq FROM d) ${pickOrder} ${pickLock}) n ON true`,
      [id, now, false, uuid, status, payload],
      'mdmkit_record_final',
    ));
  }
  let outcome: mdm.RecordResultResponse['outcome'];
  if ((row?.changed ?? 0) > 0) outcome = 'stored';
  else if (row?.existed) outcome = 'duplicate';
  else {
    // Nothing changed and no result was visible: either the command is unknown, or a concurrent
    // report finished it after this statement's snapshot was taken (this statement then waited on
    // its row lock). Look again with a fresh snapshot, and pick again too, since the first pick is as
    // old as that snapshot.
    ({
      rows: [row],
    } = await run<PickRow>(
      'recordResult',
      `SELECT 0 AS changed,
              EXISTS (SELECT 1 FROM results WHERE command_uuid = $4 AND enrollment_id = $1) AS existed,
              n.*
       FROM (SELECT 1) AS one LEFT JOIN LATERAL (
         SELECT ${pickColumns} FROM queue q JOIN commands c ON c.seq = q.command_seq
         WHERE ${pickWhere} ${pickOrder} ${pickLock}) n ON true`,
      [id, now, status === 'NotNow', uuid],
    ));
    outcome = row?.existed ? 'duplicate' : 'unknown';
  }
  return core.withNext(outcome, picked(row));
}

export async function listQueue(ctx: Ctx, id: string): Promise<mdm.QueueEntry[]> {
  mdm.checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const { rows } = await query<core.QueueEntryRow>(
    ctx.db,
    'listQueue',
    `SELECT ${pickColumns}, q.last_status, q.not_now_count, q.last_status_at
     FROM queue q JOIN commands c ON c.seq = q.command_seq
     WHERE q.enrollment_id = $1 ORDER BY q.priority DESC, q.command_seq`,
    [id],
  );
  return rows.map((r) => core.toQueueEntry(id, r));
}

export async function clearQueue(ctx: Ctx, id: string): Promise<number> {
  mdm.checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  const r = await query(ctx.db, 'clearQueue', 'DELETE FROM queue WHERE enrollment_id = $1', [id]);
  return r.rowCount ?? 0;
}

export function getResults(ctx: Ctx, commandUuid: string): Promise<mdm.CommandResult[]> {
  return core.resultsOf(ctx.limits, commandUuid, async (uuid) => {
    const { rows } = await query<core.ResultRow>(
      ctx.db,
      'getResults',
      `SELECT ${core.resultColumns} FROM results WHERE command_uuid = $1 ORDER BY id`,
      [uuid],
    );
    return rows;
  });
}

export function listHistory(
  ctx: Ctx,
  id: string,
  options: mdm.PageOptions = {},
): Promise<mdm.Page<mdm.CommandResult>> {
  return core.historyPage(ctx.limits, id, options, async (after, rows) => {
    const { rows: found } = await query<core.ResultRow>(
      ctx.db,
      'listHistory',
      `SELECT ${core.resultColumns} FROM results
       WHERE enrollment_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3`,
      [id, after, rows],
    );
    return found;
  });
}

export async function deleteFinishedCommands(ctx: Ctx, before: Date): Promise<number> {
  date('before', before);
  const r = await query(
    ctx.db,
    'deleteFinishedCommands',
    `WITH doomed AS (
       SELECT c.seq, c.command_uuid FROM commands c
       WHERE NOT EXISTS (SELECT 1 FROM queue q WHERE q.command_seq = c.seq)
         AND COALESCE((SELECT max(r.received_at) FROM results r WHERE r.command_uuid = c.command_uuid),
                      c.created_at) < $1
       FOR UPDATE OF c SKIP LOCKED),
     gone AS (DELETE FROM results r USING doomed WHERE r.command_uuid = doomed.command_uuid)
     DELETE FROM commands c USING doomed WHERE c.seq = doomed.seq`,
    [before],
  );
  return r.rowCount ?? 0;
}
