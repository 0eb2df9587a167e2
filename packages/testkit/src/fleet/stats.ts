import { LatencyRecorder, type LatencySummary } from './latency';

/** The operations a fleet measures. */
export type FleetOperation = 'enroll' | 'idle' | 'roundTrip';

/** Counts and latencies of one operation. */
export interface OperationSummary extends LatencySummary {
  ok: number;
  errors: number;
  /** Successful operations per second over the phase that ran them. */
  perSecond: number;
}

/** Everything a fleet measured, as plain JSON. */
export interface FleetStatsSummary {
  operations: Partial<Record<FleetOperation, OperationSummary>>;
  /** Commands the devices answered, by the status they answered with. */
  commands: { handled: number; Acknowledged: number; Error: number; NotNow: number };
  /** Error messages and how often each occurred (at most 50 distinct, the rest under "other"). */
  errors: Record<string, number>;
  errorCount: number;
}

const MAX_DISTINCT_ERRORS = 50;

/**
 * Counters shared by a fleet's operations: latency per operation, errors by message, command answers.
 *
 * @example
 * ```ts
 * const stats = new FleetStats();
 * stats.succeeded('idle', 2.1);
 * stats.summary().operations.idle?.ok; // 1
 * ```
 */
export class FleetStats {
  private readonly latency = new Map<FleetOperation, LatencyRecorder>();
  private readonly failures = new Map<FleetOperation, number>();
  private readonly elapsed = new Map<FleetOperation, number>();
  private readonly errorCounts = new Map<string, number>();
  readonly commands = { handled: 0, Acknowledged: 0, Error: 0, NotNow: 0 };

  succeeded(op: FleetOperation, ms: number): void {
    let r = this.latency.get(op);
    if (!r) {
      r = new LatencyRecorder();
      this.latency.set(op, r);
    }
    r.record(ms);
  }

  failed(op: FleetOperation, error: unknown): void {
    this.failures.set(op, (this.failures.get(op) ?? 0) + 1);
    let key = describe(error);
    if (!this.errorCounts.has(key) && this.errorCounts.size >= MAX_DISTINCT_ERRORS) key = 'other';
    this.errorCounts.set(key, (this.errorCounts.get(key) ?? 0) + 1);
  }

  /** Notes how long a phase running `op` lasted, for its rate. */
  ran(op: FleetOperation, ms: number): void {
    this.elapsed.set(op, (this.elapsed.get(op) ?? 0) + ms);
  }

  answered(status: 'Acknowledged' | 'Error' | 'NotNow'): void {
    this.commands.handled++;
    this.commands[status]++;
  }

  ok(op: FleetOperation): number {
    return this.latency.get(op)?.count ?? 0;
  }

  errorsOf(op: FleetOperation): number {
    return this.failures.get(op) ?? 0;
  }

  get errorCount(): number {
    let n = 0;
    for (const v of this.failures.values()) n += v;
    return n;
  }

  summary(): FleetStatsSummary {
    const operations: FleetStatsSummary['operations'] = {};
    const ops = new Set<FleetOperation>([...this.latency.keys(), ...this.failures.keys()]);
    for (const op of ops) {
      const latency = this.latency.get(op)?.summary() ?? new LatencyRecorder().summary();
      const seconds = (this.elapsed.get(op) ?? 0) / 1000;
      operations[op] = {
        ok: latency.count,
        errors: this.errorsOf(op),
        perSecond: seconds > 0 ? Math.round((latency.count / seconds) * 10) / 10 : 0,
        ...latency,
      };
    }
    return {
      operations,
      commands: { ...this.commands },
      errors: Object.fromEntries(this.errorCounts),
      errorCount: this.errorCount,
    };
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${typeof code === 'string' ? `${code} ` : ''}${error.message}${cause}`.slice(0, 200);
  }
  return String(error).slice(0, 200);
}
