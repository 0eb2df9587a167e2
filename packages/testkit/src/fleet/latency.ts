/** Latency percentiles of one kind of operation, in milliseconds. */
export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Collects operation latencies (milliseconds) in a growing typed array, so a few million samples
 * cost a few tens of MB and no per-sample object; percentiles are exact (sorted at summary time).
 *
 * @example
 * ```ts
 * const l = new LatencyRecorder();
 * l.record(1.5);
 * l.summary().p99Ms; // 1.5
 * ```
 */
export class LatencyRecorder {
  private samples = new Float64Array(1024);
  private n = 0;

  record(ms: number): void {
    if (this.n === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    if (this.n === 0) return { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 };
    const sorted = this.samples.slice(0, this.n).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    const at = (q: number) => round(sorted[Math.min(this.n - 1, Math.ceil(q * this.n) - 1)] as number);
    return {
      count: this.n,
      meanMs: round(sum / this.n),
      p50Ms: at(0.5),
      p90Ms: at(0.9),
      p99Ms: at(0.99),
      maxMs: round(sorted[this.n - 1] as number),
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
