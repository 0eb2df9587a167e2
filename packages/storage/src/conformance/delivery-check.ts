import type { CommandQueue, QueuedCommand, RecordOutcome, ReportStatus } from '../queue';

/**
 * One nextCommand or recordResult call as the client saw it. `issued` and `completed` come from one
 * monotonic counter: `issued` is taken before the call is sent, `completed` when its reply is
 * processed. The client's view is all a test can rely on: replies from different connections may be
 * processed in either order, so only "A completed before B was issued" proves A happened before B.
 */
export interface DeliveryCall {
  enrollmentId: string;
  issued: number;
  completed: number;
  /** The report the call sent; absent for nextCommand. */
  report?: { commandUuid: string; status: ReportStatus; outcome: RecordOutcome };
  /** CommandUUID the call handed out, if any. */
  delivered?: string;
}

const FINAL: ReadonlySet<ReportStatus> = new Set<ReportStatus>([
  'Acknowledged',
  'Error',
  'CommandFormatError',
]);

const key = (e: string, uuid: string): string => `${e} ${uuid}`;

/**
 * Checks a delivery trace and returns the violations (empty when sound). `expected` lists each
 * enrollment's commands in enqueue order, all of one priority. A rule is reported broken only when the
 * trace proves it, whatever order the replies were processed in:
 * - re-delivery: a call handed out C although a final result of C had been acknowledged (a
 *   recordResult answered `stored` or `duplicate` completed) before that call was issued, or the call
 *   itself stored C's final result and then handed C out as the next command;
 * - lost or doubled: every expected command has exactly one final report answered `stored`;
 * - order: a call handed out D although an earlier-enqueued C was certainly unfinished during the whole
 *   call (no final report of C was issued before the call completed) and C could not be skipped
 *   (the call was not a NotNow report made after a NotNow report of C had been issued).
 */
export function checkDeliveryTrace(
  calls: readonly DeliveryCall[],
  expected: ReadonlyMap<string, readonly string[]>,
): string[] {
  const violations: string[] = [];
  const finalDone = new Map<string, number>(); // earliest completion of a final report stored or duplicate
  const finalIssued = new Map<string, number>(); // earliest issue of any final report
  const notNowIssued = new Map<string, number>(); // earliest issue of any NotNow report
  const storedCount = new Map<string, number>();
  const min = (m: Map<string, number>, k: string, v: number) => {
    const old = m.get(k);
    if (old === undefined || v < old) m.set(k, v);
  };

  for (const c of calls) {
    const r = c.report;
    if (!r) continue;
    const k = key(c.enrollmentId, r.commandUuid);
    if (FINAL.has(r.status)) {
      min(finalIssued, k, c.issued);
      if (r.outcome === 'stored' || r.outcome === 'duplicate') min(finalDone, k, c.completed);
      else violations.push(`unexpected outcome ${r.outcome} for final report of ${k}`);
      if (r.outcome === 'stored') storedCount.set(k, (storedCount.get(k) ?? 0) + 1);
    } else if (r.status === 'NotNow') {
      min(notNowIssued, k, c.issued);
    }
  }

  for (const c of calls) {
    if (c.delivered === undefined) continue;
    const e = c.enrollmentId;
    const k = key(e, c.delivered);
    const done = finalDone.get(k);
    const ownFinal =
      c.report?.commandUuid === c.delivered &&
      FINAL.has(c.report.status) &&
      (c.report.outcome === 'stored' || c.report.outcome === 'duplicate');
    // the call that stores a final result picks its next command after storing it
    if ((done !== undefined && done < c.issued) || ownFinal)
      violations.push(`re-delivered after its final result: ${k}`);
    const order = expected.get(e) ?? [];
    const at = order.indexOf(c.delivered);
    if (at < 0) {
      violations.push(`delivered a command never enqueued for ${e}: ${c.delivered}`);
      continue;
    }
    const skipping = c.report?.status === 'NotNow';
    for (const earlier of order.slice(0, at)) {
      const ek = key(e, earlier);
      const finalAt = finalIssued.get(ek);
      if (finalAt !== undefined && finalAt < c.completed) continue; // may have finished meanwhile
      const notNowAt = notNowIssued.get(ek);
      if (skipping && notNowAt !== undefined && notNowAt < c.completed) continue; // may be skipped
      violations.push(`out of order for ${e}: ${c.delivered} handed out while ${earlier} was pending`);
      break;
    }
  }

  for (const [e, uuids] of expected) {
    for (const uuid of uuids) {
      const n = storedCount.get(key(e, uuid)) ?? 0;
      if (n === 0) violations.push(`lost: ${key(e, uuid)} has no stored final result`);
      else if (n > 1) violations.push(`stored ${n} times: ${key(e, uuid)}`);
    }
  }
  for (const [k, n] of storedCount) {
    const [e = '', uuid = ''] = k.split(' ');
    if (n > 0 && !(expected.get(e) ?? []).includes(uuid)) violations.push(`stored unexpected ${k}`);
  }
  return violations;
}

/** Records calls with issue and completion sequence numbers from one counter. */
export class DeliveryTracer {
  readonly calls: DeliveryCall[] = [];
  #seq = 0;

  async next(h: Pick<CommandQueue, 'nextCommand'>, enrollmentId: string): Promise<QueuedCommand | undefined> {
    const issued = ++this.#seq;
    const cmd = await h.nextCommand(enrollmentId);
    const completed = ++this.#seq;
    this.calls.push({ enrollmentId, issued, completed, ...(cmd ? { delivered: cmd.uuid } : {}) });
    return cmd;
  }

  async record(
    h: Pick<CommandQueue, 'recordResult'>,
    enrollmentId: string,
    commandUuid: string,
    status: ReportStatus,
    payload: Uint8Array,
  ): Promise<QueuedCommand | undefined> {
    const issued = ++this.#seq;
    const res = await h.recordResult({ enrollmentId, commandUuid, status, payload });
    const completed = ++this.#seq;
    this.calls.push({
      enrollmentId,
      issued,
      completed,
      report: { commandUuid, status, outcome: res.outcome },
      ...(res.next ? { delivered: res.next.uuid } : {}),
    });
    return res.next;
  }
}

/** Options for {@link runDeliveryWorkers}. */
export interface DeliveryWorkload {
  handles: readonly Pick<CommandQueue, 'nextCommand' | 'recordResult'>[];
  enrollments: readonly string[];
  workers: number;
  /** Stops a runaway adapter that never drains; reported as a violation by the caller. Default 20 000. */
  maxCalls?: number;
}

/**
 * Parallel workers that fetch, NotNow now and then, and acknowledge commands until the queues look
 * empty. Each enrollment is served by two workers at once and each worker serves several enrollments.
 * Returns the trace for {@link checkDeliveryTrace}, plus whether the call cap was hit.
 */
export async function runDeliveryWorkers(
  w: DeliveryWorkload,
): Promise<{ calls: DeliveryCall[]; capped: boolean }> {
  const tracer = new DeliveryTracer();
  const maxCalls = w.maxCalls ?? 20_000;
  const payload = new TextEncoder().encode('r');
  const { enrollments, workers } = w;
  const worker = async (n: number) => {
    const h = w.handles[n % w.handles.length]!;
    const mine = enrollments.filter(
      (_, i) => i % workers === n % workers || (i + 1) % workers === n % workers,
    );
    const targets = mine.length ? mine : [enrollments[n % enrollments.length]!];
    let idle = 0;
    while (idle < targets.length && tracer.calls.length < maxCalls) {
      idle = 0;
      for (const e of targets) {
        let cmd = await tracer.next(h, e);
        if (!cmd) {
          idle++;
          continue;
        }
        for (let step = 0; cmd && step < 4; step++) {
          const status = (cmd.uuid.length + step + n) % 5 === 0 ? 'NotNow' : 'Acknowledged';
          cmd = await tracer.record(h, e, cmd.uuid, status, payload);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, n) => worker(n)));
  return { calls: tracer.calls, capped: tracer.calls.length >= maxCalls };
}
