import { deviceInformationCommand } from '@mdmkit/commands';
import { toFetchHandler } from '@mdmkit/http';
import { MemoryStorage } from '@mdmkit/storage';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, PUBLIC_ORIGIN, startHarness } from './harness';
import { waitFor } from './wait';

describe('enroll → Authenticate → TokenUpdate → enqueue → push → poll → acknowledge → stored', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(new MemoryStorage());
  });
  afterAll(() => h?.close());

  it('runs the whole path with one virtual device', async () => {
    const device = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch });
    h.apns.registerDevice(device.pushToken, () => device.receivePush());
    const enrollment = await h.storage.getEnrollment(device.udid);
    expect(enrollment?.enabled).toBe(true);
    expect(enrollment?.tokenUpdateTally).toBe(1);
    expect(h.events.find((e) => e.type === 'token-update')).toMatchObject({ first: true });

    const cmd = deviceInformationCommand({ Queries: ['UDID', 'SerialNumber', 'OSVersion'] });
    const { push } = await h.mdm.enqueue(cmd, [device.udid]);
    expect(push?.delivered).toEqual([device.udid]);
    await waitFor(() => device.handled.length === 1);
    await device.idle();
    expect(device.handled[0]).toMatchObject({
      commandUuid: cmd.CommandUUID,
      status: 'Acknowledged',
      pushesSeen: 1,
    });
    const results = await h.storage.getResults(cmd.CommandUUID);
    expect(results).toHaveLength(1);
    expect(results[0]?.status).toBe('Acknowledged');
    expect(new TextDecoder().decode(results[0]?.payload)).toContain(device.udid);
    expect(await h.storage.listQueue(device.udid)).toEqual([]);
  });
});

describe('one URL for check-ins and reports, mounted through the fetch adapter', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(new MemoryStorage(), { checkInUrl: undefined });
  });
  afterAll(() => h?.close());

  it('enrolls and answers a command with every request going through toFetchHandler', async () => {
    const fetchHandler = toFetchHandler(h.mdm.handler);
    const viaFetch: typeof fetch = async (input, init) =>
      fetchHandler(new Request(String(input).replace(PUBLIC_ORIGIN, 'http://in-process'), init), {
        remoteAddress: '127.0.0.1',
      });
    const profile = new Uint8Array(await (await viaFetch(`${PUBLIC_ORIGIN}/mdm/enroll`)).arrayBuffer());
    const device = await VirtualDevice.enroll(profile, { fetch: viaFetch, platform: 'iPadOS' });
    expect((await h.storage.getEnrollment(device.udid))?.enabled).toBe(true);
    const cmd = deviceInformationCommand({ Queries: ['ModelName'] });
    await h.mdm.enqueue(cmd, [device.udid], { push: false });
    expect((await device.poll()).map((x) => x.status)).toEqual(['Acknowledged']);
    expect((await h.storage.getResults(cmd.CommandUUID))[0]?.status).toBe('Acknowledged');
  });
});
