import { MemoryStorage } from '@mdmkit/storage';
import { describe, expect, it } from 'vitest';
import { createJsonLogger, MetricsRegistry, pushRetryJob, startLeasedJobs } from '../src/index';

const quiet = createJsonLogger('error', () => {});

async function enroll(storage: MemoryStorage, id: string, lastSeen: Date): Promise<void> {
  await storage.authenticate({ id, topic: 'com.apple.mgmt.test' });
  await storage.tokenUpdate({
    id,
    channel: 'device',
    topic: 'com.apple.mgmt.test',
    pushToken: 'ab'.repeat(32),
    pushMagic: 'magic',
  });
  await storage.touchLastSeen(id, lastSeen);
}

describe('background jobs', () => {
  it('run on one replica at a time: the lease holder keeps the job between runs', async () => {
    const storage = new MemoryStorage();
    const runs: string[] = [];
    const job = (who: string) => ({
      name: 'test-job',
      intervalMs: 60_000,
      run: async () => void runs.push(who),
    });
    const counter = new MetricsRegistry().counter('runs', 'runs');
    const a = startLeasedJobs(storage, 'replica-a', [job('a')], quiet, counter);
    const b = startLeasedJobs(storage, 'replica-b', [job('b')], quiet, counter);
    await a.runAll();
    await b.runAll();
    await a.runAll();
    await b.runAll();
    expect(runs).toEqual(['a', 'a']);
    await a.stop();
    // Given up on stop, so the other replica takes over at once.
    await b.runAll();
    expect(runs).toEqual(['a', 'a', 'b']);
    await b.stop();
  });

  it('a failing run is counted and the loop goes on', async () => {
    const storage = new MemoryStorage();
    const registry = new MetricsRegistry();
    const counter = registry.counter('mdmkit_job_runs_total', 'runs');
    let calls = 0;
    const jobs = startLeasedJobs(
      storage,
      'r',
      [
        {
          name: 'flaky',
          intervalMs: 60_000,
          run: async () => {
            if (calls++ === 0) throw new Error('boom');
          },
        },
      ],
      quiet,
      counter,
    );
    await jobs.runAll().catch(() => {});
    await jobs.runAll();
    await jobs.stop();
    expect(registry.render()).toContain('mdmkit_job_runs_total{job="flaky",outcome="error"} 1');
    expect(registry.render()).toContain('mdmkit_job_runs_total{job="flaky",outcome="ok"} 1');
  });

  it('push retry pushes only enrollments with waiting commands that were not seen lately', async () => {
    const storage = new MemoryStorage();
    const now = new Date('2026-12-06T12:00:00Z');
    const old = new Date(now.getTime() - 10 * 60_000);
    await enroll(storage, 'WAITING-OLD', old);
    await enroll(storage, 'IDLE-OLD', old);
    await enroll(storage, 'WAITING-RECENT', new Date(now.getTime() - 1000));
    await storage.enqueueCommand(
      { uuid: 'c-1', requestType: 'DeviceInformation', payload: new Uint8Array([1]) },
      ['WAITING-OLD', 'WAITING-RECENT'],
    );
    const pushed: string[][] = [];
    const job = pushRetryJob(
      storage,
      async (ids) => void pushed.push(ids),
      60_000,
      () => now,
    );
    const lease = (await storage.acquireLease(job.name, 'r', 60_000))!;
    await job.run(lease);
    expect(pushed).toEqual([['WAITING-OLD']]);
    // A replica holding an older lease token cannot move the job's place back.
    const stale = { ...lease, token: lease.token - 1 };
    await expect(job.run(stale)).rejects.toMatchObject({ code: 'FENCED' });
  });
});
