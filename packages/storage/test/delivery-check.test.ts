import { describe, expect, it } from 'vitest';
import { checkDeliveryTrace, type DeliveryCall, runDeliveryWorkers } from '../src/conformance/delivery-check';
import { type CommandQueue, type CommandReport, MemoryStorage, type QueuedCommand } from '../src/index';

type Queue = Pick<CommandQueue, 'nextCommand' | 'recordResult'>;

const bytes = (s: string) => new TextEncoder().encode(s);

async function seeded(): Promise<{
  store: MemoryStorage;
  enrollments: string[];
  expected: Map<string, string[]>;
}> {
  const store = new MemoryStorage();
  await store.migrate();
  const enrollments = ['E0', 'E1', 'E2'];
  const expected = new Map<string, string[]>();
  for (let i = 0; i < 6; i++) {
    for (const e of enrollments) {
      const uuid = `${e}-${i}`;
      await store.enqueueCommand({ uuid, requestType: 'Test', payload: bytes(uuid) }, [e]);
      expected.set(e, [...(expected.get(e) ?? []), uuid]);
    }
  }
  return { store, enrollments, expected };
}

/** Hands an acknowledged command out once more on the enrollment's next nextCommand. */
class RedeliversAcknowledged implements Queue {
  readonly #seen = new Map<string, QueuedCommand>();
  readonly #stale = new Map<string, QueuedCommand>();
  constructor(readonly inner: Queue) {}
  #keep(c: QueuedCommand | undefined) {
    if (c) this.#seen.set(c.uuid, c);
    return c;
  }
  async nextCommand(e: string) {
    const stale = this.#stale.get(e);
    if (stale) {
      this.#stale.delete(e);
      return stale;
    }
    return this.#keep(await this.inner.nextCommand(e));
  }
  async recordResult(r: CommandReport) {
    const res = await this.inner.recordResult(r);
    const done = r.commandUuid === undefined ? undefined : this.#seen.get(r.commandUuid);
    if (r.status === 'Acknowledged' && res.outcome === 'stored' && done)
      this.#stale.set(r.enrollmentId, done);
    this.#keep(res.next);
    return res;
  }
}

/** Hands out the newest pending command instead of the oldest. */
class Lifo implements Queue {
  constructor(readonly store: MemoryStorage) {}
  async nextCommand(e: string) {
    const q = await this.store.listQueue(e);
    return q.at(-1);
  }
  async recordResult(r: CommandReport) {
    const res = await this.store.recordResult(r);
    return { ...res, next: res.next && (await this.nextCommand(r.enrollmentId)) };
  }
}

/** Never hands out one command, so it is never finished. */
class Hides implements Queue {
  constructor(
    readonly store: MemoryStorage,
    readonly hidden: string,
  ) {}
  async nextCommand(e: string) {
    const c = await this.store.nextCommand(e);
    return c?.uuid === this.hidden ? undefined : c;
  }
  async recordResult(r: CommandReport) {
    const res = await this.store.recordResult(r);
    return res.next?.uuid === this.hidden ? { outcome: res.outcome } : res;
  }
}

/** A correct queue whose replies arrive late by varying delays, as from several connections. */
class LateReplies implements Queue {
  #seed = 7;
  constructor(readonly inner: Queue) {}
  #late<T>(value: T): Promise<T> {
    this.#seed = (this.#seed * 1103515245 + 12345) % 2 ** 31;
    return new Promise((resolve) => setTimeout(() => resolve(value), (this.#seed >>> 16) % 5));
  }
  async nextCommand(e: string) {
    return this.#late(await this.inner.nextCommand(e));
  }
  async recordResult(r: CommandReport) {
    return this.#late(await this.inner.recordResult(r));
  }
}

describe('delivery checker on the conformance workload', () => {
  it('finds nothing wrong when replies of a correct adapter are processed out of order', async () => {
    const { store, enrollments, expected } = await seeded();
    const handles = [new LateReplies(store), new LateReplies(store.openHandle())];
    const { calls, capped } = await runDeliveryWorkers({ handles, enrollments, workers: 6 });
    expect(capped).toBe(false);
    // replies really were processed out of issue order
    const byIssue = [...calls].sort((a, b) => a.issued - b.issued);
    expect(byIssue.some((c, i) => i > 0 && c.completed < byIssue[i - 1]!.completed)).toBe(true);
    expect(checkDeliveryTrace(calls, expected)).toEqual([]);
  });

  it('finds nothing wrong with a correct adapter', async () => {
    const { store, enrollments, expected } = await seeded();
    const { calls, capped } = await runDeliveryWorkers({
      handles: [store, store.openHandle()],
      enrollments,
      workers: 4,
    });
    expect(capped).toBe(false);
    expect(calls.length).toBeGreaterThan(18);
    expect(checkDeliveryTrace(calls, expected)).toEqual([]);
  });

  it('reports a command handed out again after its acknowledgement was stored', async () => {
    const { store, enrollments, expected } = await seeded();
    const fake = new RedeliversAcknowledged(store);
    const { calls } = await runDeliveryWorkers({ handles: [fake], enrollments, workers: 2 });
    const v = checkDeliveryTrace(calls, expected);
    expect(v.some((m) => m.startsWith('re-delivered after its final result: E'))).toBe(true);
  });

  it('reports commands handed out out of enqueue order', async () => {
    const { store, enrollments, expected } = await seeded();
    const { calls } = await runDeliveryWorkers({ handles: [new Lifo(store)], enrollments, workers: 2 });
    const v = checkDeliveryTrace(calls, expected);
    expect(v.some((m) => m.startsWith('out of order for E'))).toBe(true);
    expect(v.some((m) => m.startsWith('re-delivered'))).toBe(false);
  });

  it('reports a command that is never finished', async () => {
    const { store, enrollments, expected } = await seeded();
    const { calls } = await runDeliveryWorkers({
      handles: [new Hides(store, 'E1-5')],
      enrollments,
      workers: 2,
    });
    expect(checkDeliveryTrace(calls, expected)).toEqual(['lost: E1 E1-5 has no stored final result']);
  });
});

describe('checkDeliveryTrace on hand-written traces', () => {
  const expected = new Map([['E', ['A', 'B']]]);
  const ack = (uuid: string, issued: number, completed: number, delivered?: string): DeliveryCall => ({
    enrollmentId: 'E',
    issued,
    completed,
    report: { commandUuid: uuid, status: 'Acknowledged', outcome: 'stored' },
    ...(delivered ? { delivered } : {}),
  });
  const next = (issued: number, completed: number, delivered?: string): DeliveryCall => ({
    enrollmentId: 'E',
    issued,
    completed,
    ...(delivered ? { delivered } : {}),
  });

  it('accepts a delivery whose call was issued before the result completed, whatever the processing order', () => {
    // nextCommand issued at 2 and processed at 5, after the acknowledgement (1..3) was processed
    const calls = [ack('A', 1, 3, 'B'), next(2, 5, 'A'), ack('A', 6, 7, 'B'), ack('B', 8, 9)];
    calls[2]!.report!.outcome = 'duplicate';
    expect(checkDeliveryTrace(calls, expected)).toEqual([]);
  });

  it('rejects a delivery issued after the final result had completed', () => {
    const calls = [next(1, 2, 'A'), ack('A', 3, 4, 'B'), next(5, 6, 'A'), ack('B', 7, 8)];
    expect(checkDeliveryTrace(calls, expected)).toEqual(['re-delivered after its final result: E A']);
  });

  it('rejects a report that stores a final result and hands the same command out next', () => {
    expect(checkDeliveryTrace([next(1, 2, 'A'), ack('A', 3, 4, 'A'), ack('B', 5, 6)], expected)).toEqual([
      're-delivered after its final result: E A',
    ]);
  });

  it('counts a duplicate answer as proof that the result was stored', () => {
    const calls = [next(1, 2, 'A'), ack('A', 3, 10, 'B'), ack('A', 4, 5), next(6, 7, 'A'), ack('B', 11, 12)];
    calls[2]!.report!.outcome = 'duplicate';
    expect(checkDeliveryTrace(calls, expected)).toEqual(['re-delivered after its final result: E A']);
  });

  it('judges order only when the earlier command was certainly pending', () => {
    // B handed out by a call that overlaps A's acknowledgement: A may have been stored first
    expect(checkDeliveryTrace([ack('A', 2, 5), next(1, 3, 'B'), ack('B', 6, 7)], expected)).toEqual([]);
    // B handed out by a call that completed before A's acknowledgement was even issued
    expect(checkDeliveryTrace([next(1, 2, 'B'), ack('A', 3, 4), ack('B', 5, 6)], expected)).toEqual([
      'out of order for E: B handed out while A was pending',
    ]);
  });

  it('allows skipping a NotNow command only on a NotNow report', () => {
    const notNow = (uuid: string, issued: number, completed: number, delivered?: string): DeliveryCall => ({
      enrollmentId: 'E',
      issued,
      completed,
      report: { commandUuid: uuid, status: 'NotNow', outcome: 'stored' },
      ...(delivered ? { delivered } : {}),
    });
    expect(checkDeliveryTrace([notNow('A', 1, 2, 'B'), ack('B', 3, 4), ack('A', 5, 6)], expected)).toEqual(
      [],
    );
    expect(
      checkDeliveryTrace([notNow('A', 1, 2), next(3, 4, 'B'), ack('B', 5, 6), ack('A', 7, 8)], expected),
    ).toEqual(['out of order for E: B handed out while A was pending']);
  });

  it('reports lost and doubled results', () => {
    expect(checkDeliveryTrace([ack('A', 1, 2), ack('A', 3, 4)], expected)).toEqual([
      'stored 2 times: E A',
      'lost: E B has no stored final result',
    ]);
  });
});
