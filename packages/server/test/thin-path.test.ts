import { deviceInformationCommand } from '@mdmkit/commands';
import { MemoryStorage } from '@mdmkit/storage';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness';
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
