import { deviceInformationCommand, securityInfoCommand } from '@mdmkit/commands';
import { MemoryStorage } from '@mdmkit/storage';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { describe, expect, it } from 'vitest';
import { startHarness } from './harness';

describe('the cost of a report', () => {
  it('does not read the whole queue to learn the reported command type', async () => {
    const storage = new MemoryStorage();
    const h = await startHarness(storage);
    try {
      let notNow = true;
      const d = await VirtualDevice.enroll(await h.profile(), {
        fetch: h.fetch,
        notNow: (type) => notNow && type === 'SecurityInfo',
      });
      // A long queue: a report must cost the same whatever its length.
      const first = securityInfoCommand({});
      await h.mdm.enqueue(first, [d.udid], { push: false, priority: 10 });
      for (let i = 0; i < 300; i++) {
        await h.mdm.enqueue(deviceInformationCommand({ Queries: ['UDID'] }), [d.udid], { push: false });
      }
      const read = { queues: 0, entries: 0 };
      const listQueue = storage.listQueue.bind(storage);
      storage.listQueue = async (id) => {
        const entries = await listQueue(id);
        read.queues++;
        read.entries += entries.length;
        return entries;
      };
      await d.poll();
      notNow = false;
      while ((await d.poll()).length > 0);
      expect(d.handled.length).toBe(302);
      expect(read).toEqual({ queues: 0, entries: 0 });
      // The command type still reaches the report events, NotNow and final alike.
      const reports = h.events.filter((e) => e.type === 'report' && e.status !== 'Idle');
      expect(reports.length).toBe(302);
      for (const e of reports)
        expect(e.type === 'report' && e.requestType).toMatch(/^(SecurityInfo|DeviceInformation)$/);
      const notNowReport = reports.find((e) => e.type === 'report' && e.status === 'NotNow');
      expect(notNowReport).toMatchObject({ commandUuid: first.CommandUUID, requestType: 'SecurityInfo' });
    } finally {
      await h.close();
    }
  });
});
