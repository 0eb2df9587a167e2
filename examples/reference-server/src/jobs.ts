import type { JobLeases, Lease } from '@mdmkit/storage';
import type { Logger } from './logger';
import type { Counter } from './metrics';

/** A background job run on one replica at a time. */
export interface LeasedJob {
  /** Lease name; one holder across every replica on the same storage. */
  name: string;
  intervalMs: number;
  /** One run. `lease.token` fences any job state it writes. */
  run(lease: Lease): Promise<void>;
}

/** Running jobs; `stop()` waits for runs in progress and gives the leases up. */
export interface JobRunner {
  stop(): Promise<void>;
  /** Runs every job once now (where this replica gets its lease); for tests and start-up. */
  runAll(): Promise<void>;
}

/**
 * Runs each job every `intervalMs` under a storage lease. The lease outlives the interval (twice
 * it, at least 30 s) and is kept between runs, so the replica that has a job keeps it while it lives,
 * and another takes over only after the holder stops renewing. A failing run is logged and counted;
 * it never stops the loop.
 *
 * @example
 * ```ts
 * const jobs = startLeasedJobs(storage, `replica-${process.pid}`, [pushRetry], log, jobRuns);
 * await jobs.stop();
 * ```
 */
export function startLeasedJobs(
  leases: JobLeases,
  holder: string,
  jobs: readonly LeasedJob[],
  log: Logger,
  runs: Counter,
): JobRunner {
  const held = new Map<string, Lease>();
  const running = new Map<string, Promise<void>>();
  let stopped = false;

  const tick = (job: LeasedJob): Promise<void> => {
    const inProgress = running.get(job.name);
    if (inProgress || stopped) return inProgress ?? Promise.resolve();
    const ttl = Math.max(job.intervalMs * 2, 30_000);
    const run = (async () => {
      try {
        const lease = await leases.acquireLease(job.name, holder, ttl);
        if (!lease) {
          held.delete(job.name);
          return;
        }
        held.set(job.name, lease);
        await job.run(lease);
        runs.inc({ job: job.name, outcome: 'ok' });
      } catch (e) {
        runs.inc({ job: job.name, outcome: 'error' });
        log.error('job failed', { job: job.name, error: e });
      } finally {
        running.delete(job.name);
      }
    })();
    running.set(job.name, run);
    return run;
  };

  const timers = jobs.map((job) => {
    const t = setInterval(() => void tick(job), job.intervalMs);
    t.unref();
    return t;
  });

  return {
    runAll: async () => {
      await Promise.all(jobs.map(tick));
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.all(running.values());
      await Promise.all(
        [...held.values()].map((lease) =>
          leases
            .releaseLease(lease)
            .catch((e: unknown) => log.warn('lease release failed', { lease: lease.name, error: e })),
        ),
      );
      held.clear();
    },
  };
}
