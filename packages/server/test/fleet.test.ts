// A 500-device fleet from @mdmkit/testkit against the server on SQLite: every device enrolls through
// the served profile and SCEP, checks in, and answers the commands queued for it; every answer is
// stored. This is the CI-sized run of the load generator the benchmarks drive harder.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deviceInformationCommand } from '@mdmkit/commands';
import { Fleet, runScenario } from '@mdmkit/testkit/fleet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness';
import { STORAGES } from './storages';

const DEVICES = Number(process.env.MDMKIT_FLEET_TEST_DEVICES ?? 500);
const sqlite = STORAGES.find((s) => s.name === 'sqlite')!;

describe(`a fleet of ${DEVICES} virtual devices on SQLite`, () => {
  let h: Harness;
  let destroy: () => Promise<void>;
  let fleet: Fleet;
  const queued: string[] = [];

  beforeAll(async () => {
    const opened = await sqlite.open();
    destroy = opened.destroy;
    h = await startHarness(opened.storage);
    fleet = new Fleet({
      profile: () => h.profile(),
      fetch: h.fetch,
      onEnrolled: (d) => h.apns.registerDevice(d.pushToken, () => d.receivePush()),
    });
  });
  afterAll(async () => {
    await h?.close();
    await destroy?.();
  });

  it('enrolls every device with its own identity', async () => {
    const summary = await runScenario(fleet, {
      scenario: 'enroll',
      devices: DEVICES,
      enrollRate: 1000,
      concurrency: 16,
    });
    expect(summary.errors).toEqual({});
    expect(summary.operations.enroll?.ok).toBe(DEVICES);
    const page = await h.storage.listEnrollments({ enabled: true, limit: 1000 });
    expect(page.items).toHaveLength(DEVICES);
    const certs = new Set(fleet.devices.map((d) => d.certificate.fingerprintSha256));
    expect(certs.size).toBe(DEVICES);
    for (const d of fleet.devices.slice(0, 50))
      expect(await h.storage.enrollmentForCertificate(d.certificate.fingerprintSha256)).toBe(d.udid);
  }, 600_000);

  it('checks in and runs command round trips at once, with no error, every command stored', async () => {
    const summary = await runScenario(fleet, {
      scenario: 'mixed',
      devices: DEVICES,
      rate: 400,
      commandRate: 100,
      durationMs: 5000,
      concurrency: 32,
      enqueue: async (udids) => {
        const cmd = deviceInformationCommand({ Queries: ['UDID', 'OSVersion'] });
        queued.push(cmd.CommandUUID);
        await h.mdm.enqueue(cmd, udids, { push: false });
      },
    });
    expect(summary.errors).toEqual({});
    expect(summary.errorCount).toBe(0);
    const idle = summary.operations.idle!;
    const trips = summary.operations.roundTrip!;
    expect(idle.ok).toBeGreaterThan(100);
    expect(trips.ok).toBe(queued.length);
    expect(trips.p99Ms).toBeGreaterThan(0);
    expect(trips.p50Ms).toBeLessThanOrEqual(trips.p99Ms);
    // Every queued command was answered Acknowledged by its device and the answer stored.
    expect(summary.commands.Acknowledged).toBe(queued.length);
    expect(summary.commands.Error + summary.commands.NotNow).toBe(0);
    for (const uuid of queued) {
      const results = await h.storage.getResults(uuid);
      expect(results.map((r) => r.status)).toEqual(['Acknowledged']);
    }
  }, 300_000);

  it('counts an error when a device is handed no command for its round trip', async () => {
    const lonely = new Fleet({ fetch: h.fetch });
    lonely.add(fleet.devices[0]!);
    await lonely.roundTrips({ rate: 10, total: 2, enqueue: async () => {} });
    const s = lonely.stats.summary();
    expect(s.operations.roundTrip?.errors).toBe(2);
    expect(Object.keys(s.errors)).toEqual(['REQUEST_FAILED the device was handed no command']);
  });

  it('runs from the mdmkit-testkit devices command against the server URL', async () => {
    const bin = fileURLToPath(new URL('../../testkit/src/bin.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
    const origin = h.http.url.replace(/\/$/, '');
    const { stdout, stderr } = await promisify(execFile)(
      tsx,
      [
        '--conditions=mdmkit-source',
        bin,
        'devices',
        '--enroll-url',
        `${origin}/mdm/enroll`,
        '--server-url',
        origin,
        '--scenario',
        'idle',
        '--devices',
        '4',
        '--rate',
        '20',
        '--duration',
        '1',
        '--platforms',
        'iOS',
      ],
      { timeout: 120_000 },
    );
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ scenario: 'idle', devices: 4, errorCount: 0, errors: {} });
    expect(summary.operations.enroll.ok).toBe(4);
    expect(summary.operations.idle.ok).toBeGreaterThan(5);
    expect(summary.operations.idle.p99Ms).toBeGreaterThan(0);
    // Not a terminal: progress is plain lines, the last one printed when the run ends.
    expect(stderr).toMatch(/^\[\d+\.\ds\] idle · devices 4 · enroll 4 · idle \d+ · commands 0$/m);
    const page = await h.storage.listEnrollments({ enabled: true, limit: 1000 });
    expect(page.items).toHaveLength(DEVICES + 4);
  }, 180_000);
});
