/** Options of {@link pace}. */
export interface PaceOptions {
  /** Operations started per second. */
  rate: number;
  /**
   * Stop starting operations after this long (ms, wall clock), or after `total` operations, whichever
   * comes first.
   */
  durationMs?: number;
  total?: number;
  /** At most this many operations in flight; a due operation waits for a free slot. */
  concurrency: number;
  /** Stop early when this signal aborts. */
  signal?: AbortSignal;
}

/**
 * Starts `op(i)` at `rate` per second (open loop: the schedule does not slow down because answers do,
 * up to `concurrency` operations in flight) and resolves when every started operation has settled.
 * Returns how many were started and how far the last start lagged behind its schedule.
 * `op` must not reject; it records its own errors.
 *
 * @example
 * ```ts
 * await pace({ rate: 100, total: 10, concurrency: 4 }, async (i) => { await work(i); });
 * ```
 */
export async function pace(
  options: PaceOptions,
  op: (i: number) => Promise<void>,
): Promise<{ started: number; maxLagMs: number }> {
  const { rate, concurrency } = options;
  const total = options.total ?? Number.POSITIVE_INFINITY;
  const durationMs = options.durationMs ?? Number.POSITIVE_INFINITY;
  if (!(rate > 0) || !(concurrency >= 1)) throw new RangeError('rate and concurrency must be positive');
  if (total === Number.POSITIVE_INFINITY && durationMs === Number.POSITIVE_INFINITY)
    throw new RangeError('give a total or a duration');
  const start = performance.now();
  const interval = 1000 / rate;
  let started = 0;
  let inFlight = 0;
  let maxLagMs = 0;
  let freed: (() => void) | undefined;
  let allDone: (() => void) | undefined;
  const settle = () => {
    inFlight--;
    freed?.();
    if (inFlight === 0) allDone?.();
  };
  while (started < total && !options.signal?.aborted) {
    const due = start + started * interval;
    const now = performance.now();
    // Past the duration nothing more starts, even when the schedule fell behind.
    if (due - start >= durationMs || now - start >= durationMs) break;
    if (due > now) {
      // Sleep to the next due time (timers are ms-grained; several ops may start per wake-up).
      await new Promise((r) => setTimeout(r, Math.max(1, Math.floor(due - now))));
      continue;
    }
    if (inFlight >= concurrency) {
      await new Promise<void>((r) => {
        freed = r;
      });
      freed = undefined;
      continue;
    }
    maxLagMs = Math.max(maxLagMs, now - due);
    inFlight++;
    const i = started++;
    op(i).then(settle, settle);
  }
  if (inFlight > 0) {
    await new Promise<void>((r) => {
      allDone = r;
    });
  }
  return { started, maxLagMs: Math.round(maxLagMs) };
}
