import { MemoryStorage } from '@mdmkit/storage';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportMigrationCheckins } from '../src/index';
import { type Harness, PUBLIC_ORIGIN, startHarness } from './harness';

const CHECKIN = `${PUBLIC_ORIGIN}/mdm/checkin`;
const SERVER = `${PUBLIC_ORIGIN}/mdm/server`;

describe('a migrated identity after its enrollment moved on', () => {
  let oldMdm: Harness;
  let newMdm: Harness;
  let live: Harness;
  const fetchLive: typeof fetch = (input, init) => live.fetch(input, init);

  beforeAll(async () => {
    oldMdm = await startHarness(new MemoryStorage());
    newMdm = await startHarness(new MemoryStorage());
    live = oldMdm;
  });
  afterAll(async () => {
    await oldMdm?.close();
    await newMdm?.close();
  });

  async function migrate(): Promise<VirtualDevice> {
    live = oldMdm;
    const d = await VirtualDevice.enroll(await oldMdm.profile(), { fetch: fetchLive, platform: 'iOS' });
    const importer = newMdm.mdm.lifecycle!.migration;
    for await (const e of exportMigrationCheckins(oldMdm.storage)) {
      if (e.enrollmentId !== d.udid) continue;
      await importer.importCheckin(e.authenticate!, { certificateHash: e.certificateHashes[0]! }, 'test');
      await importer.importCheckin(e.tokenUpdate!, undefined, 'test');
    }
    live = newMdm;
    expect(await d.poll()).toEqual([]);
    return d;
  }

  const authenticate = (udid: string) => ({
    MessageType: 'Authenticate',
    UDID: udid,
    Topic: newMdm.topic,
    SerialNumber: 'STOLEN0001',
  });

  it('is not trusted for any UDID once its device enrolled again with an identity of this server', async () => {
    const d = await migrate();
    const pinned = d.certificate.fingerprintSha256;
    const stolen = { certificate: d.certificate, privateKey: d.identityKey };
    // The device enrolls afresh against this server: its migrated identity no longer opens anything.
    await VirtualDevice.enroll(await newMdm.profile(), {
      fetch: newMdm.fetch,
      udid: d.udid,
      platform: 'iOS',
    });
    expect(await newMdm.storage.enrollmentForCertificate(pinned)).toBeUndefined();
    // Whoever kept the old identity cannot enroll a new UDID with it.
    const victim = 'ATTACKER-CHOSEN-UDID-0001';
    const answer = await d.send(CHECKIN, authenticate(victim), { signWith: stolen });
    expect(answer.status).toBe(403);
    expect(await newMdm.storage.getEnrollment(victim)).toBeUndefined();
    expect(await newMdm.storage.enrollmentForCertificate(pinned)).toBeUndefined();
  }, 60_000);

  it('is not trusted once its enrollment checked out', async () => {
    const d = await migrate();
    const stolen = { certificate: d.certificate, privateKey: d.identityKey };
    await d.checkOut();
    expect((await newMdm.storage.getEnrollment(d.udid))?.enabled).toBe(false);
    // Coming back after a CheckOut is an enrollment: it takes an identity from this server's CA.
    const again = await d.send(CHECKIN, authenticate(d.udid), { signWith: stolen });
    expect(again.status).toBe(403);
    const idle = await d.send(
      SERVER,
      { UDID: d.udid, Status: 'Idle' },
      { signWith: stolen, contentType: undefined },
    );
    expect(idle.status).toBe(403);
    expect((await newMdm.storage.getEnrollment(d.udid))?.enabled).toBe(false);
  }, 60_000);
});
