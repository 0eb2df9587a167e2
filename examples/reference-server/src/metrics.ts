/** Label values of one series. */
export type Labels = Readonly<Record<string, string>>;

interface CounterSeries {
  labels: Labels;
  value: number;
}

interface HistogramSeries {
  labels: Labels;
  counts: number[];
  sum: number;
  count: number;
}

/** A monotonically growing count. */
export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

/** A distribution of observed values (seconds, by convention). */
export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

/** Default buckets for request durations, in seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const keyOf = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k]!)}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

/** Caps the distinct label sets of one metric, so device-controlled values cannot grow memory. */
const MAX_SERIES = 1000;

/** The series for `labels`, made with `create` if new; past MAX_SERIES new label sets share one overflow series. */
function seriesFor<S>(series: Map<string, S>, labels: Labels, create: (labels: Labels) => S): S {
  let key = keyOf(labels);
  let s = series.get(key);
  if (s) return s;
  if (series.size >= MAX_SERIES) {
    labels = { overflow: 'true' };
    key = keyOf(labels);
    s = series.get(key);
    if (s) return s;
  }
  s = create(labels);
  series.set(key, s);
  return s;
}

/**
 * Counters and histograms rendered in the Prometheus text exposition format (version 0.0.4).
 * Label values should come from small fixed sets (route names, statuses); past 1000 series per
 * metric, new label sets are counted under `{overflow="true"}`.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from '@mdmkit/reference-server';
 * const metrics = new MetricsRegistry();
 * const checkIns = metrics.counter('mdm_checkins_total', 'Check-in messages received');
 * checkIns.inc({ type: 'Authenticate' });
 * console.log(metrics.render().includes('mdm_checkins_total{type="Authenticate"} 1')); // true
 * ```
 */
export class MetricsRegistry {
  readonly #render: (() => string)[] = [];

  counter(name: string, help: string): Counter {
    const series = new Map<string, CounterSeries>();
    this.#render.push(() => {
      const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} counter`];
      for (const s of series.values()) lines.push(`${name}${labelText(s.labels)} ${s.value}`);
      return lines.join('\n');
    });
    return {
      inc(labels = {}, by = 1) {
        seriesFor(series, labels, (l) => ({ labels: l, value: 0 })).value += by;
      },
    };
  }

  histogram(name: string, help: string, buckets: readonly number[] = DURATION_BUCKETS): Histogram {
    const series = new Map<string, HistogramSeries>();
    this.#render.push(() => {
      const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
      for (const s of series.values()) {
        let cumulative = 0;
        buckets.forEach((b, i) => {
          cumulative += s.counts[i]!;
          lines.push(`${name}_bucket${labelText(s.labels, ['le', String(b)])} ${cumulative}`);
        });
        lines.push(`${name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}`);
        lines.push(`${name}_sum${labelText(s.labels)} ${s.sum}`);
        lines.push(`${name}_count${labelText(s.labels)} ${s.count}`);
      }
      return lines.join('\n');
    });
    return {
      observe(value, labels = {}) {
        const s = seriesFor(series, labels, (l) => ({
          labels: l,
          counts: buckets.map(() => 0),
          sum: 0,
          count: 0,
        }));
        const i = buckets.findIndex((b) => value <= b);
        if (i >= 0) s.counts[i]!++;
        s.sum += value;
        s.count++;
      },
    };
  }

  /** Every metric in the Prometheus text format. */
  render(): string {
    return `${this.#render.map((r) => r()).join('\n')}\n`;
  }
}
