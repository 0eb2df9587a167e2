import { TestkitError } from '../errors';
import type { Fleet } from './fleet';
import { type ProgressStream, showProgress } from './progress';
import type { FleetStatsSummary } from './stats';

/** The scenarios {@link runScenario} knows. */
export const SCENARIOS = ['enroll', 'idle', 'round-trips', 'mixed'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Options of {@link runScenario}. */
export interface ScenarioOptions {
  scenario: ScenarioName;
  /** Devices the fleet should hold; missing ones are enrolled first. */
  devices: number;
  /** Enrollments started per second. Default 20. */
  enrollRate?: number;
  /** Idle check-ins (idle, mixed) or round trips (round-trips) per second. Default 100. */
  rate?: number;
  /** Round trips per second in the mixed scenario. Default a tenth of `rate`. */
  commandRate?: number;
  /** Length of the measured phase (not enrollment). Default 10 s. */
  durationMs?: number;
  /** Operations in flight at most, per phase. Default 64. */
  concurrency?: number;
  /** Queues a command for devices on the server under test (round-trips, mixed). */
  enqueue?: (udids: string[]) => Promise<void>;
  /** Show progress on this stream (stderr in the CLI). */
  progress?: ProgressStream;
  signal?: AbortSignal;
}

/** What {@link runScenario} returns: the fleet's figures as plain JSON. */
export interface ScenarioSummary extends FleetStatsSummary {
  scenario: ScenarioName;
  devices: number;
  /** Wall-clock length of the whole run, enrollment included. */
  wallMs: number;
  startedAt: string;
}

/**
 * Runs a scenario on a fleet: enrolls the devices it lacks, then (except for `enroll`) runs Idle
 * check-ins, command round trips, or both at once (`mixed`) at the given rates for the given time.
 *
 * @example
 * ```ts
 * const summary = await runScenario(fleet, { scenario: 'idle', devices: 100, rate: 200, durationMs: 5000 });
 * console.log(summary.operations.idle?.p99Ms, summary.errorCount);
 * ```
 */
export async function runScenario(fleet: Fleet, options: ScenarioOptions): Promise<ScenarioSummary> {
  if (!SCENARIOS.includes(options.scenario))
    throw new TestkitError('INVALID_OPTIONS', `unknown scenario ${JSON.stringify(options.scenario)}`);
  const startedAt = new Date();
  const t0 = performance.now();
  const concurrency = options.concurrency ?? 64;
  const rate = options.rate ?? 100;
  const durationMs = options.durationMs ?? 10_000;
  const signal = options.signal;
  const common = { concurrency, durationMs, ...(signal && { signal }) };
  const stop = options.progress
    ? showProgress(fleet, options.progress, () => `${options.scenario} · `)
    : () => {};
  try {
    const missing = options.devices - fleet.devices.length;
    if (missing > 0) {
      await fleet.enroll(missing, {
        rate: options.enrollRate ?? 20,
        concurrency,
        ...(signal && { signal }),
      });
    }
    if (options.scenario !== 'enroll' && fleet.devices.length === 0) {
      // Failed enrollments are the run's result (counted in the summary); with none tried, the
      // caller asked for a phase that cannot run.
      if (fleet.stats.errorsOf('enroll') > 0) return summarise(fleet, options.scenario, startedAt, t0);
      throw new TestkitError('ENROLL_FAILED', 'no device enrolled');
    }
    const enqueue = options.enqueue && { enqueue: options.enqueue };
    if (options.scenario === 'idle') await fleet.checkIns({ rate, ...common });
    if (options.scenario === 'round-trips') await fleet.roundTrips({ rate, ...common, ...enqueue });
    if (options.scenario === 'mixed') {
      await Promise.all([
        fleet.checkIns({ rate, ...common }),
        fleet.roundTrips({ rate: options.commandRate ?? Math.max(1, rate / 10), ...common, ...enqueue }),
      ]);
    }
  } finally {
    stop();
  }
  return summarise(fleet, options.scenario, startedAt, t0);
}

function summarise(fleet: Fleet, scenario: ScenarioName, startedAt: Date, t0: number): ScenarioSummary {
  return {
    scenario,
    devices: fleet.devices.length,
    wallMs: Math.round(performance.now() - t0),
    startedAt: startedAt.toISOString(),
    ...fleet.stats.summary(),
  };
}
