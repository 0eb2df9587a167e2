import {
  decodeReportFor,
  deviceInformationCommand,
  installProfileCommand,
  profileListCommand,
  rawCommand,
  removeProfileCommand,
  restartDeviceCommand,
  securityInfoCommand,
} from '@mdmkit/commands';
import { buildProfile, dockPayload, encodeProfile } from '@mdmkit/profiles';
import type { MdmStorage } from '@mdmkit/storage';
import { type HandledCommand, VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness';
import { STORAGES } from './storages';
import { waitFor } from './wait';

const DEVICES = 100;
const PLATFORMS = ['macOS', 'iOS', 'iPadOS'] as const;

async function inBatches<T>(count: number, size: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += size) {
    out.push(
      ...(await Promise.all(Array.from({ length: Math.min(size, count - i) }, (_, j) => make(i + j)))),
    );
  }
  return out;
}

for (const backend of STORAGES) {
  describe.skipIf(!backend.available)(`end to end on ${backend.name}`, () => {
    let h: Harness;
    let destroy: () => Promise<void>;
    let storage: MdmStorage;
    let devices: VirtualDevice[] = [];
    let busy = true;
    let busyDevice: VirtualDevice;

    beforeAll(async () => {
      const opened = await backend.open();
      storage = opened.storage;
      destroy = opened.destroy;
      h = await startHarness(storage);
    });
    afterAll(async () => {
      await h?.close();
      await destroy?.();
    });

    it(`enrolls ${DEVICES} virtual devices from the served profile`, async () => {
      devices = await inBatches(DEVICES, 10, async (i) => {
        const d = await VirtualDevice.enroll(await h.profile(), {
          fetch: h.fetch,
          platform: PLATFORMS[i % 3],
        });
        h.apns.registerDevice(d.pushToken, () => d.receivePush());
        return d;
      });
      const page = await storage.listEnrollments({ enabled: true, limit: 1000 });
      expect(page.items).toHaveLength(DEVICES);
      for (const e of page.items) expect(e.tokenUpdateTally).toBe(1);
      const firsts = h.events.filter((e) => e.type === 'token-update' && e.first);
      expect(firsts).toHaveLength(DEVICES);
      // Each device holds its own identity, bound to its own enrollment.
      for (const d of devices) {
        expect(await storage.enrollmentForCertificate(d.certificate.fingerprintSha256)).toBe(d.udid);
      }
    });

    it('delivers DeviceInformation to every device after its push, and stores every answer', async () => {
      const cmd = deviceInformationCommand({
        Queries: ['UDID', 'SerialNumber', 'ModelName', 'IsAppleSilicon', 'IMEI'],
      });
      const { push } = await h.mdm.enqueue(
        cmd,
        devices.map((d) => d.udid),
      );
      expect(push?.delivered).toHaveLength(DEVICES);
      expect(push?.failed).toEqual([]);
      await waitFor(() => devices.every((d) => d.handled.some((x) => x.commandUuid === cmd.CommandUUID)));
      await Promise.all(devices.map((d) => d.idle()));
      for (const d of devices) {
        const got = d.handled.find((x) => x.commandUuid === cmd.CommandUUID) as HandledCommand;
        expect(got.status).toBe('Acknowledged');
        expect(got.pushesSeen).toBe(1);
      }
      const results = await storage.getResults(cmd.CommandUUID);
      expect(results).toHaveLength(DEVICES);
      for (const d of devices) {
        const r = results.find((x) => x.enrollmentId === d.udid);
        expect(r?.status).toBe('Acknowledged');
        const typed = decodeReportFor('DeviceInformation', r!.payload);
        expect(typed.responseIssues).toEqual([]);
        expect(typed.response?.QueryResponses.UDID).toBe(d.udid);
        // What differs by platform: Apple silicon on the Mac, an IMEI on the iPhone.
        expect(typed.response?.QueryResponses.IsAppleSilicon).toBe(d.platform === 'macOS' ? true : undefined);
        expect(typeof typed.response?.QueryResponses.IMEI).toBe(
          d.platform === 'iOS' ? 'string' : 'undefined',
        );
        expect((await storage.listHistory(d.udid)).items.map((x) => x.commandUuid)).toContain(
          cmd.CommandUUID,
        );
        expect(await storage.listQueue(d.udid)).toEqual([]);
      }
    });

    it('keeps a command queued after NotNow and delivers it on a later push', async () => {
      busyDevice = await VirtualDevice.enroll(await h.profile(), {
        fetch: h.fetch,
        notNow: (type) => busy && type === 'SecurityInfo',
      });
      h.apns.registerDevice(busyDevice.pushToken, () => busyDevice.receivePush());
      const cmd = securityInfoCommand({});
      await h.mdm.enqueue(cmd, [busyDevice.udid]);
      await waitFor(() => busyDevice.handled.length === 1);
      await busyDevice.idle();
      expect(busyDevice.handled[0]?.status).toBe('NotNow');
      const queued = await storage.listQueue(busyDevice.udid);
      expect(queued.map((q) => [q.uuid, q.lastStatus])).toEqual([[cmd.CommandUUID, 'NotNow']]);
      expect(await storage.getResults(cmd.CommandUUID)).toEqual([]);
      busy = false;
      await h.mdm.push([busyDevice.udid]);
      await waitFor(() => busyDevice.handled.length === 2);
      await busyDevice.idle();
      expect(busyDevice.handled[1]).toMatchObject({
        commandUuid: cmd.CommandUUID,
        status: 'Acknowledged',
        pushesSeen: 2,
      });
      const [result] = await storage.getResults(cmd.CommandUUID);
      expect(result?.status).toBe('Acknowledged');
      expect(decodeReportFor('SecurityInfo', result!.payload).response?.SecurityInfo.FDE_Enabled).toBe(true);
    });

    it('stores Error answers for commands the device does not implement, and for unknown commands', async () => {
      const d = devices[0]!;
      const known = restartDeviceCommand({});
      const unknown = rawCommand('FrobnicateTheWidget', { Level: 3 });
      await h.mdm.enqueue(known, [d.udid], { push: false });
      await h.mdm.enqueue(unknown, [d.udid]);
      await waitFor(() => d.handled.some((x) => x.commandUuid === unknown.CommandUUID));
      await d.idle();
      for (const c of [known, unknown]) {
        const [r] = await storage.getResults(c.CommandUUID);
        expect(r?.status).toBe('Error');
        expect(new TextDecoder().decode(r?.payload)).toContain('ErrorChain');
      }
      const ev = h.events.find((e) => e.type === 'report' && e.commandUuid === unknown.CommandUUID);
      expect(ev).toMatchObject({ requestType: 'FrobnicateTheWidget', status: 'Error', outcome: 'stored' });
    });

    it('installs and removes profiles, and ProfileList reflects them', async () => {
      const d = devices[1]!;
      const profile = encodeProfile(
        buildProfile({
          identifier: 'com.example.dock',
          displayName: 'Dock',
          payloads: [dockPayload({ autohide: true })],
        }),
      );
      const list1 = profileListCommand({});
      await h.mdm.enqueue(installProfileCommand({ Payload: profile }), [d.udid], { push: false });
      await h.mdm.enqueue(list1, [d.udid]);
      await waitFor(() => d.handled.some((x) => x.commandUuid === list1.CommandUUID));
      await d.idle();
      const [r1] = await storage.getResults(list1.CommandUUID);
      const ids1 = decodeReportFor('ProfileList', r1!.payload).response?.ProfileList.map(
        (p) => p.PayloadIdentifier,
      );
      expect(ids1).toContain('com.example.dock');

      const remove = removeProfileCommand({ Identifier: 'com.example.dock' });
      const removeAgain = removeProfileCommand({ Identifier: 'com.example.dock' });
      const list2 = profileListCommand({});
      await h.mdm.enqueue(remove, [d.udid], { push: false });
      await h.mdm.enqueue(removeAgain, [d.udid], { push: false });
      await h.mdm.enqueue(list2, [d.udid]);
      await waitFor(() => d.handled.some((x) => x.commandUuid === list2.CommandUUID));
      await d.idle();
      expect((await storage.getResults(remove.CommandUUID))[0]?.status).toBe('Acknowledged');
      expect((await storage.getResults(removeAgain.CommandUUID))[0]?.status).toBe('Error');
      const [r2] = await storage.getResults(list2.CommandUUID);
      const ids2 = decodeReportFor('ProfileList', r2!.payload).response?.ProfileList.map(
        (p) => p.PayloadIdentifier,
      );
      expect(ids2).not.toContain('com.example.dock');
    });

    it('stores a report whose response fails validation, lists its issues and hands out the next command', async () => {
      const d = devices[2]!;
      const first = deviceInformationCommand({ Queries: ['UDID'] });
      const second = securityInfoCommand({});
      await h.mdm.enqueue(first, [d.udid], { push: false });
      await h.mdm.enqueue(second, [d.udid], { push: false });
      const res = await d.send(
        `https://mdm.test/mdm/server`,
        {
          UDID: d.udid,
          Status: 'Acknowledged',
          CommandUUID: first.CommandUUID,
          QueryResponses: 'not a dictionary',
        },
        { contentType: undefined },
      );
      expect(res.status).toBe(200);
      expect(new TextDecoder().decode(res.body)).toContain(second.CommandUUID);
      const [stored] = await storage.getResults(first.CommandUUID);
      expect(stored?.status).toBe('Acknowledged');
      expect(new TextDecoder().decode(stored?.payload)).toContain('not a dictionary');
      const ev = h.events.find((e) => e.type === 'report' && e.commandUuid === first.CommandUUID);
      expect(ev?.type === 'report' && ev.issues.length > 0).toBe(true);
      await d.poll();
      expect((await storage.getResults(second.CommandUUID))[0]?.status).toBe('Acknowledged');
    });

    it('opens a macOS user channel and runs commands on it', async () => {
      const mac = devices.find((d) => d.platform === 'macOS')!;
      const token = await mac.enrollUser({
        userId: 'A1B2C3D4-0000-0000-0000-000000000001',
        shortName: 'alice',
      });
      const userId = `${mac.udid}:A1B2C3D4-0000-0000-0000-000000000001`;
      h.apns.registerDevice(token, () => mac.poll('A1B2C3D4-0000-0000-0000-000000000001'));
      const e = await storage.getEnrollment(userId);
      expect(e).toMatchObject({ channel: 'user', deviceId: mac.udid, enabled: true, userShortName: 'alice' });
      const cmd = profileListCommand({});
      const { push } = await h.mdm.enqueue(cmd, [userId]);
      expect(push?.delivered).toEqual([userId]);
      await waitFor(() => mac.handled.some((x) => x.commandUuid === cmd.CommandUUID));
      await mac.idle();
      expect(mac.handled.find((x) => x.commandUuid === cmd.CommandUUID)?.channel).toBe('user');
      expect((await storage.getResults(cmd.CommandUUID))[0]?.enrollmentId).toBe(userId);
    });

    it('seals the bootstrap token at rest and escrows it back', async () => {
      const mac = devices.find((d) => d.platform === 'macOS')!;
      const token = new TextEncoder().encode('bootstrap-token-for-test');
      await mac.setBootstrapToken(token);
      const stored = await storage.getBootstrapToken(mac.udid);
      expect(stored).toBeDefined();
      expect(Buffer.from(stored!).includes(Buffer.from(token))).toBe(false);
      expect(Buffer.from((await mac.getBootstrapToken())!).toString()).toBe('bootstrap-token-for-test');
    });

    it('starts the enrollment over on Authenticate, and tells the first TokenUpdate from later ones', async () => {
      const d = devices[3]!;
      await h.mdm.enqueue(securityInfoCommand({}), [d.udid], { push: false });
      await d.authenticate();
      const e = await storage.getEnrollment(d.udid);
      expect(e).toMatchObject({ enabled: false, tokenUpdateTally: 0 });
      expect(await storage.listQueue(d.udid)).toEqual([]);
      await d.tokenUpdate();
      await d.tokenUpdate();
      const updates = h.events.filter((x) => x.type === 'token-update' && x.enrollmentId === d.udid);
      expect(updates.slice(-2).map((x) => x.type === 'token-update' && x.first)).toEqual([true, false]);
    });

    it('disables an enrollment on CheckOut', async () => {
      const d = devices[4]!;
      await d.checkOut();
      expect((await storage.getEnrollment(d.udid))?.enabled).toBe(false);
      expect(await storage.getPushInfo([d.udid])).toEqual([]);
    });

    it('never lets an enrollment profile challenge enroll a second device', async () => {
      const profile = await h.profile();
      await VirtualDevice.enroll(profile, { fetch: h.fetch });
      await expect(VirtualDevice.enroll(profile, { fetch: h.fetch })).rejects.toMatchObject({
        code: 'ENROLL_FAILED',
      });
    });
  });
}
