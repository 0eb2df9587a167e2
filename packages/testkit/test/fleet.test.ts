import { describe, expect, it } from 'vitest';
import { runTestkitCli } from '../src/cli';
import { Fleet, FleetStats, LatencyRecorder, pace, runScenario, showProgress } from '../src/fleet';
import { TestkitError } from '../src/errors';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      out: (s: string) => out.push(s),
      err: (s: string) => err.push(s),
      untilStopped: () => new Promise<void>(() => {}),
    },
  };
}

describe('LatencyRecorder', () => {
  it('gives exact nearest-rank percentiles past its initial capacity', () => {
    const l = new LatencyRecorder();
    for (let i = 5000; i >= 1; i--) l.record(i);
    const s = l.summary();
    expect(s).toMatchObject({
      count: 5000,
      p50Ms: 2500,
      p90Ms: 4500,
      p99Ms: 4950,
      maxMs: 5000,
      meanMs: 2500.5,
    });
    expect(new LatencyRecorder().summary().count).toBe(0);
  });

  it('matches a hand computation on unsorted values with ties (nearest rank: the ceil(q·n)-th smallest)', () => {
    // Sorted: 0.5 1 2 2 3 8 13 21 40 100 (n = 10). p50: 5th = 3; p90: 9th = 40; p99: 10th = 100.
    const l = new LatencyRecorder();
    for (const v of [21, 2, 100, 0.5, 13, 2, 40, 1, 8, 3]) l.record(v);
    expect(l.summary()).toEqual({ count: 10, meanMs: 19.05, p50Ms: 3, p90Ms: 40, p99Ms: 100, maxMs: 100 });
    // n = 3: p50 is the 2nd smallest, p90 and p99 the 3rd; a numeric sort (a string sort puts 10 first).
    const m = new LatencyRecorder();
    for (const v of [9, 10, 1.25]) m.record(v);
    expect(m.summary()).toMatchObject({ p50Ms: 9, p90Ms: 10, p99Ms: 10, meanMs: 6.75 });
  });
});

describe('pace', () => {
  it('starts operations at the given rate, never more in flight than allowed', async () => {
    let inFlight = 0;
    let most = 0;
    const t0 = performance.now();
    const r = await pace({ rate: 200, total: 40, concurrency: 3 }, async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((res) => setTimeout(res, 5));
      inFlight--;
    });
    expect(r.started).toBe(40);
    expect(most).toBeLessThanOrEqual(3);
    // 40 starts at 200/s take at least 195 ms (the first starts at once).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('stops starting at the wall-clock duration even when the operations are slow', async () => {
    const t0 = performance.now();
    const r = await pace(
      { rate: 1000, durationMs: 100, concurrency: 1 },
      () => new Promise((res) => setTimeout(res, 30)),
    );
    expect(r.started).toBeLessThan(10);
    expect(performance.now() - t0).toBeLessThan(400);
  });

  it('refuses a rate or concurrency that is not positive, and a phase without an end', async () => {
    await expect(pace({ rate: 0, total: 1, concurrency: 1 }, async () => {})).rejects.toThrow(RangeError);
    await expect(pace({ rate: 1, concurrency: 1 }, async () => {})).rejects.toThrow(RangeError);
  });
});

describe('FleetStats', () => {
  it('counts errors by message, with a bound on distinct messages', () => {
    const s = new FleetStats();
    for (let i = 0; i < 60; i++) s.failed('idle', new TestkitError('REQUEST_FAILED', `status ${i}`));
    s.failed('idle', new TestkitError('REQUEST_FAILED', 'status 0'));
    s.succeeded('idle', 3);
    s.answered('Acknowledged');
    const sum = s.summary();
    expect(sum.errorCount).toBe(61);
    expect(sum.errors['REQUEST_FAILED status 0']).toBe(2);
    expect(Object.keys(sum.errors)).toHaveLength(51);
    expect(sum.errors.other).toBe(10);
    expect(sum.operations.idle).toMatchObject({ ok: 1, errors: 61 });
    expect(sum.commands).toEqual({ handled: 1, Acknowledged: 1, Error: 0, NotNow: 0 });
  });
});

describe('Fleet', () => {
  it('counts a failed enrollment and keeps no device for it', async () => {
    const fleet = new Fleet({ profile: async () => new Uint8Array([1, 2, 3]) });
    const summary = await runScenario(fleet, { scenario: 'enroll', devices: 3, enrollRate: 100 });
    expect(fleet.devices).toHaveLength(0);
    expect(summary.operations.enroll).toMatchObject({ ok: 0, errors: 3 });
    expect(Object.keys(summary.errors)[0]).toMatch(/^INVALID_PROFILE/);
  });

  it('refuses check-ins without devices, enrollment without a profile source, an unknown scenario', async () => {
    const fleet = new Fleet();
    await expect(fleet.checkIns({ rate: 1, total: 1 })).rejects.toThrow(/no devices/);
    await expect(fleet.enroll(1, { rate: 1 })).rejects.toThrow(/profile source/);
    await expect(runScenario(fleet, { scenario: 'nope' as 'idle', devices: 0 })).rejects.toThrow(
      /unknown scenario/,
    );
  });

  it('shows progress in place on a terminal and as lines elsewhere', () => {
    const fleet = new Fleet();
    fleet.stats.succeeded('idle', 1);
    const tty: string[] = [];
    showProgress(fleet, { write: (s) => tty.push(s), isTTY: true })();
    expect(tty[0]).toMatch(/^\r\x1b\[2K\[0\.0s\] devices 0 · idle 1 · commands 0\n$/);
    const log: string[] = [];
    showProgress(fleet, { write: (s) => log.push(s) })();
    expect(log[0]).toMatch(/^\[0\.0s\] devices 0 · idle 1/);
  });
});

describe('mdmkit-testkit devices', () => {
  it('prints its help at every level', async () => {
    for (const args of [
      ['devices', '--help'],
      ['help', 'devices'],
      ['devices', 'help'],
    ]) {
      const t = io();
      expect(await runTestkitCli(args, t.io)).toBe(0);
      expect(t.out.join('')).toMatch(/^usage: mdmkit-testkit devices/);
    }
    const t = io();
    await runTestkitCli(['--help'], t.io);
    expect(t.out.join('')).toMatch(/\n {2}devices {5}run a fleet/);
  });

  it('reports usage errors with exit 2', async () => {
    for (const args of [
      ['devices'],
      ['devices', '--enroll-url', 'http://x/', '--profile', 'p'],
      ['devices', '--enroll-url', 'ftp://x/'],
      ['devices', '--profile', 'p', '--scenario', 'storm'],
      ['devices', '--profile', 'p', '--devices', '0'],
      ['devices', '--profile', 'p', '--rate', 'fast'],
      ['devices', '--profile', 'p', '--platforms', 'macOS,tvOS'],
      ['devices', '--profile', 'p', 'extra'],
    ]) {
      const t = io();
      expect(await runTestkitCli(args, t.io), args.join(' ')).toBe(2);
      // The mistake, then the usage of the command it was made in.
      expect(t.err.join('')).toMatch(/^mdmkit-testkit: .+\nusage: mdmkit-testkit devices /);
    }
  });

  it('raises usage mistakes as typed errors with a stable code', async () => {
    const { UsageError, intOption } = await import('../src/cli-args');
    let caught: unknown;
    try {
      intOption('fast', 'rate', 10);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect(caught).toBeInstanceOf(TestkitError);
    expect(caught).toMatchObject({ code: 'USAGE', message: '--rate must be an integer from 0 to 10' });
  });

  it('counts a profile that the enrollment URL does not answer in time, and still prints the summary', async () => {
    const { createServer } = await import('node:http');
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const t = io();
      const code = await runTestkitCli(
        [
          'devices',
          '--enroll-url',
          `http://127.0.0.1:${port}/enroll`,
          '--scenario',
          'enroll',
          '--devices',
          '2',
          '--timeout',
          '1',
        ],
        t.io,
      );
      expect(code).toBe(1);
      const summary = JSON.parse(t.out.join(''));
      expect(summary).toMatchObject({ scenario: 'enroll', devices: 0, errorCount: 2 });
      expect(Object.keys(summary.errors)).toEqual([
        'REQUEST_FAILED no answer within 1000 ms: The operation was aborted due to timeout',
      ]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }, 15_000);

  it('prints the summary, exit 1, when no device could enroll for an idle run', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      res.statusCode = 503;
      res.end('<html>down for maintenance</html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const t = io();
      const code = await runTestkitCli(
        ['devices', '--enroll-url', `http://127.0.0.1:${port}/enroll`, '--devices', '3', '--duration', '1'],
        t.io,
      );
      expect(code).toBe(1);
      const summary = JSON.parse(t.out.join(''));
      expect(summary).toMatchObject({ scenario: 'idle', devices: 0, errorCount: 3 });
      expect(summary.operations.enroll).toMatchObject({ ok: 0, errors: 3 });
      expect(summary.errors).toEqual({
        [`REQUEST_FAILED GET http://127.0.0.1:${port}/enroll answered 503`]: 3,
      });
    } finally {
      server.close();
    }
  }, 15_000);

  it('names a profile file it cannot read', async () => {
    const t = io();
    await expect(
      runTestkitCli(['devices', '--profile', '/nonexistent/p.mobileconfig'], t.io),
    ).rejects.toMatchObject({ code: 'INVALID_PROFILE', message: '/nonexistent/p.mobileconfig: ENOENT' });
  });
});
