import type { EnrollmentQueries, FencedJobState, QueueAdmin } from '@mdmkit/storage';
import type { LeasedJob } from './jobs';

/** Enrollments looked at per run. */
const PAGE = 500;

/**
 * Pushes enrollments that have commands waiting and have not been seen for `intervalMs`: a push APNs
 * dropped or a device that slept through it gets another one. Walks the enrollments a page per run,
 * keeping its place in fenced job state, so a replica that lost the lease cannot move it back.
 *
 * @example
 * ```ts
 * const job = pushRetryJob(storage, (ids) => mdm.push(ids), 60_000);
 * ```
 */
export function pushRetryJob(
  storage: EnrollmentQueries & QueueAdmin & FencedJobState,
  push: (ids: string[]) => Promise<unknown>,
  intervalMs: number,
  now: () => Date = () => new Date(),
): LeasedJob {
  const name = 'mdmkit-server:push-retry';
  return {
    name,
    intervalMs,
    async run(lease) {
      const state = await storage.readJobState(name);
      const after = state ? (JSON.parse(state.state) as { after?: string }).after : undefined;
      const page = await storage.listEnrollments({
        enabled: true,
        lastSeenBefore: new Date(now().getTime() - intervalMs),
        limit: PAGE,
        ...(after ? { after } : {}),
      });
      const waiting: string[] = [];
      for (const enrollment of page.items) {
        if ((await storage.listQueue(enrollment.id)).length > 0) waiting.push(enrollment.id);
      }
      if (waiting.length > 0) await push(waiting);
      await storage.writeJobState(name, lease.token, JSON.stringify(page.next ? { after: page.next } : {}));
    },
  };
}
