// Concurrency where it happens: the same database raced from several OS processes, each with its
// own adapter instance, and a writer killed with SIGKILL mid-load. The in-process suite cannot do
// this: its handles share one event loop and (in the SQL adapters) one set of per-enrollment lanes.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MdmStorage } from '../storage';

/** What the parent needs to start children on one database: the child script and its arguments. */
export interface ProcessDatabase {
  /** Opens a handle in the parent process (for seeding and checking). */
  open(): Promise<MdmStorage>;
  /**
   * The command line of one child: usually `[process.execPath, '--conditions=mdmkit-source',
   * '--import', 'tsx', childScript, ...]`. The child calls {@link serveStorageChild}.
   */
  childCommand: readonly string[];
  /** Extra environment for the children (e.g. the database name). */
  childEnv?: Record<string, string>;
  destroy?(): Promise<void>;
}

/**
 * The command line that runs a TypeScript child script from the workspace sources (tsx, with the
 * `mdmkit-source` export condition), for {@link ProcessDatabase.childCommand}.
 *
 * @example
 * ```ts
 * const childCommand = tsxChildCommand(fileURLToPath(new URL('./child.ts', import.meta.url)));
 * ```
 */
export function tsxChildCommand(script: string): string[] {
  return [process.execPath, '--conditions=mdmkit-source', '--import', 'tsx', script];
}

/** Options of {@link runMultiProcessConformance}. */
export interface MultiProcessOptions {
  /** Child processes racing each other. Default 3. */
  processes?: number;
  /** Per-test timeout in ms. Default 120 000. */
  timeoutMs?: number;
}

/** One line a child prints per completed call; times are wall-clock ms, comparable across processes. */
interface Event {
  op: 'next' | 'record' | 'enqueue' | 'ready' | 'done' | 'error';
  e?: string;
  uuid?: string;
  /** For `record`: the command the storage handed out next in the same call. */
  next?: string;
  outcome?: string;
  start?: number;
  end?: number;
  message?: string;
}

const now = (): number => performance.timeOrigin + performance.now();
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * The child side: opens its own adapter instance and runs the job the parent put in `MDMKIT_CHILD_JOB`
 * (JSON), printing one JSON line per completed call.
 *
 * @example
 * ```ts
 * // test/child.ts of an adapter package
 * import { serveStorageChild } from '@mdmkit/storage/conformance';
 * await serveStorageChild(() => createSqliteStorage({ path: process.env.DB_PATH! }));
 * ```
 */
export async function serveStorageChild(open: () => Promise<MdmStorage>): Promise<void> {
  const job = JSON.parse(process.env.MDMKIT_CHILD_JOB ?? '{}') as {
    kind: 'deliver' | 'writer';
    enrollments: string[];
    prefix: string;
  };
  const say = (ev: Event) => process.stdout.write(`${JSON.stringify(ev)}\n`);
  const s = await open();
  say({ op: 'ready' });
  // Wait for the parent's go, sent once every child is ready, so the processes really race.
  await new Promise<void>((resolve) => {
    const lines = createInterface({ input: process.stdin });
    lines.once('line', () => {
      lines.close();
      resolve();
    });
    lines.once('close', resolve);
  });
  try {
    if (job.kind === 'deliver') await deliver(s, job.enrollments, say);
    else await write(s, job.enrollments, job.prefix, say);
    say({ op: 'done' });
  } catch (e) {
    say({ op: 'error', message: (e as Error).message });
  } finally {
    await s.close();
  }
}

// Like a connect endpoint: asks for the next command only when the previous report handed out none,
// otherwise sends the command that recordResult picked in the same call.
async function deliver(s: MdmStorage, enrollments: string[], say: (ev: Event) => void): Promise<void> {
  const report = enc('r');
  const active = new Set(enrollments);
  const handedOut = new Map<string, string>();
  while (active.size > 0) {
    for (const e of [...active]) {
      let start = now();
      let uuid = handedOut.get(e);
      if (uuid === undefined) {
        uuid = (await s.nextCommand(e))?.uuid;
        say({ op: 'next', e, uuid, start, end: now() });
      }
      if (uuid === undefined) {
        active.delete(e);
        continue;
      }
      start = now();
      const r = await s.recordResult({
        enrollmentId: e,
        commandUuid: uuid,
        status: 'Acknowledged',
        payload: report,
      });
      say({ op: 'record', e, uuid, next: r.next?.uuid, outcome: r.outcome, start, end: now() });
      if (r.next) handedOut.set(e, r.next.uuid);
      else handedOut.delete(e);
    }
  }
}

// Enqueues and acknowledges as fast as it can until killed; each line is printed only after the
// storage call resolved, so every printed line is an acknowledged operation.
async function write(
  s: MdmStorage,
  enrollments: string[],
  prefix: string,
  say: (ev: Event) => void,
): Promise<void> {
  const report = enc('r');
  const enqueuer = (async () => {
    for (let i = 0; ; i++) {
      const uuid = `${prefix}w${i}`;
      const e = enrollments[i % enrollments.length]!;
      await s.enqueueCommand({ uuid, requestType: 'Test', payload: enc(uuid) }, [e]);
      say({ op: 'enqueue', e, uuid });
    }
  })();
  const deliverers = enrollments.map(async (e) => {
    for (;;) {
      const cmd = await s.nextCommand(e);
      if (!cmd) {
        await new Promise((r) => setTimeout(r, 2));
        continue;
      }
      const r = await s.recordResult({
        enrollmentId: e,
        commandUuid: cmd.uuid,
        status: 'Acknowledged',
        payload: report,
      });
      if (r.outcome === 'stored') say({ op: 'record', e, uuid: cmd.uuid, outcome: r.outcome });
    }
  });
  await Promise.all([enqueuer, ...deliverers]);
}

interface Child {
  events: Event[];
  exited: Promise<number | null>;
  /** Lets a child that printed `ready` start its job. */
  go(): void;
  kill(): void;
  /** Resolves when `pred` first holds for the events seen so far. */
  until(pred: (events: Event[]) => boolean): Promise<void>;
}

function startChild(db: ProcessDatabase, job: object): Child {
  const [cmd, ...args] = db.childCommand;
  const p = spawn(cmd!, args, {
    env: { ...process.env, ...db.childEnv, MDMKIT_CHILD_JOB: JSON.stringify(job) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const events: Event[] = [];
  const waiters: { pred: (ev: Event[]) => boolean; resolve: () => void }[] = [];
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  createInterface({ input: p.stdout }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Event);
    } catch {
      return; // a line cut by SIGKILL
    }
    for (const w of [...waiters]) {
      if (w.pred(events)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    p.on('exit', (code) => {
      if (code !== 0 && code !== null) events.push({ op: 'error', message: stderr });
      resolve(code);
    }),
  );
  return {
    events,
    exited,
    go: () => {
      p.stdin.on('error', () => {}); // a child that already died
      p.stdin.end('go\n');
    },
    kill: () => p.kill('SIGKILL'),
    until: (pred) =>
      new Promise((resolve, reject) => {
        if (pred(events)) return resolve();
        waiters.push({ pred, resolve });
        void exited.then(() => (pred(events) ? resolve() : reject(new Error(`child exited: ${stderr}`))));
      }),
  };
}

/**
 * Registers the multi-process cases with vitest: delivery raced by several processes against one
 * database, and a writer killed with SIGKILL under load.
 *
 * @example
 * ```ts
 * runMultiProcessConformance('sqlite file', async () => ({
 *   open: () => createSqliteStorage({ path }),
 *   childCommand: [process.execPath, '--conditions=mdmkit-source', '--import', 'tsx', childScript],
 *   childEnv: { DB_PATH: path },
 * }));
 * ```
 */
export function runMultiProcessConformance(
  name: string,
  factory: () => Promise<ProcessDatabase>,
  options: MultiProcessOptions = {},
): void {
  const processes = options.processes ?? 3;
  describe(`storage conformance across processes: ${name}`, { timeout: options.timeoutMs ?? 120_000 }, () => {
    let db: ProcessDatabase;
    let s: MdmStorage;
    let n = 0;
    const prefix = () => `mp${Date.now().toString(36)}${n++}-`;
    beforeAll(async () => {
      db = await factory();
      s = await db.open();
    });
    afterAll(async () => {
      await s?.close();
      await db?.destroy?.();
    });

    it('processes racing on the same enrollments: each command recorded once, none handed out after its result', async () => {
      const p = prefix();
      const enrollments = Array.from({ length: 4 }, (_, i) => `${p}E${i}`);
      const expected = new Map<string, string[]>();
      for (let i = 0; i < 60; i++) {
        const uuid = `${p}c${String(i).padStart(3, '0')}`;
        const targets = i % 3 === 0 ? enrollments : [enrollments[i % enrollments.length]!];
        await s.enqueueCommand({ uuid, requestType: 'Test', payload: enc(uuid) }, targets);
        for (const e of targets) expected.set(e, [...(expected.get(e) ?? []), uuid]);
      }
      const children = Array.from({ length: processes }, () =>
        startChild(db, { kind: 'deliver', enrollments }),
      );
      await Promise.all(children.map((c) => c.until((evs) => evs.some((ev) => ev.op === 'ready'))));
      for (const c of children) c.go();
      await Promise.all(children.map((c) => c.exited));
      const events = children.flatMap((c) => c.events);
      expect(events.filter((ev) => ev.op === 'error')).toEqual([]);
      expect(events.filter((ev) => ev.op === 'done')).toHaveLength(processes);
      // every command recorded exactly once per enrollment, across all processes
      const recorded = events.filter((ev) => ev.op === 'record' && ev.outcome === 'stored');
      for (const [e, uuids] of expected) {
        expect(
          recorded
            .filter((ev) => ev.e === e)
            .map((ev) => ev.uuid)
            .sort(),
        ).toEqual([...uuids].sort());
      }
      // the processes' deliveries overlapped in time, so the database was really raced
      const spans = children.map((c) => {
        const timed = c.events.filter((ev) => ev.start !== undefined);
        return [Math.min(...timed.map((ev) => ev.start!)), Math.max(...timed.map((ev) => ev.end!))];
      });
      expect(Math.max(...spans.map(([start]) => start!))).toBeLessThan(
        Math.min(...spans.map(([, end]) => end!)),
      );
      // no process was handed a command (by nextCommand, or as recordResult's next) whose result
      // another process had already stored before it asked
      const finishedAt = new Map(recorded.map((ev) => [`${ev.e}\u0000${ev.uuid}`, ev.end!]));
      const late = events.filter((ev) => {
        const handed = ev.op === 'next' ? ev.uuid : ev.op === 'record' ? ev.next : undefined;
        return handed !== undefined && (finishedAt.get(`${ev.e}\u0000${handed}`) ?? Infinity) < ev.start!;
      });
      expect(late).toEqual([]);
      for (const e of enrollments) {
        expect(await s.listQueue(e)).toEqual([]);
        const history = (await s.listHistory(e, { limit: 1000 })).items.map((r) => r.commandUuid);
        expect(history.sort()).toEqual([...expected.get(e)!].sort());
      }
    });

    it('SIGKILL mid-load: every acknowledged enqueue and result survives, nothing acknowledged is handed out again', async () => {
      const p = prefix();
      const enrollments = Array.from({ length: 4 }, (_, i) => `${p}K${i}`);
      const child = startChild(db, { kind: 'writer', enrollments, prefix: p });
      child.go();
      await child.until(
        (evs) => evs.filter((ev) => ev.op === 'enqueue').length >= 40 && evs.some((ev) => ev.op === 'record'),
      );
      child.kill();
      await child.exited;
      const enqueued = child.events.filter((ev) => ev.op === 'enqueue');
      const results = child.events.filter((ev) => ev.op === 'record');
      expect(enqueued.length).toBeGreaterThanOrEqual(40);
      expect(results.length).toBeGreaterThan(0);
      // a fresh handle, as after a restart
      const fresh = await db.open();
      try {
        const done = new Set(results.map((ev) => ev.uuid!));
        for (const ev of results) {
          const stored = await fresh.getResults(ev.uuid!);
          expect(stored.map((r) => [r.enrollmentId, r.status])).toEqual([[ev.e, 'Acknowledged']]);
        }
        for (const ev of enqueued) {
          const queued = (await fresh.listQueue(ev.e!)).some((q) => q.uuid === ev.uuid);
          const answered = (await fresh.getResults(ev.uuid!)).length > 0;
          expect({ uuid: ev.uuid, kept: queued || answered }).toEqual({ uuid: ev.uuid, kept: true });
        }
        // drain what is left: nothing whose result was acknowledged comes back
        for (const e of enrollments) {
          for (let cmd = await fresh.nextCommand(e); cmd; ) {
            expect(done.has(cmd.uuid)).toBe(false);
            ({ next: cmd } = await fresh.recordResult({
              enrollmentId: e,
              commandUuid: cmd.uuid,
              status: 'Acknowledged',
              payload: enc('r'),
            }));
          }
          expect(await fresh.listQueue(e)).toEqual([]);
        }
      } finally {
        await fresh.close();
      }
    });
  });
}
