import { MemoryStorage } from '@mdmkit/storage';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exportMigrationCheckins,
  exportNanomdmFileStorage,
  importNanomdmFileStorage,
  type LifecycleStorage,
  NANOMDM_FILES,
} from '../src/index';
import { type Harness, PUBLIC_ORIGIN, startHarness } from './harness';
import { waitFor } from './wait';

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

describe('a block seen through another enrollment', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(new MemoryStorage());
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is not answered, audited or checked out for a request signed by another enrolled device', async () => {
    const storage = h.storage as LifecycleStorage;
    const a = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch, platform: 'iOS' });
    const b = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch, platform: 'iOS' });
    h.apns.registerDevice(a.pushToken, () => a.receivePush());
    await h.mdm.lifecycle!.block(a.udid, { actor: 'alice', reason: 'reported stolen' });
    await waitFor(() => a.unenrolledBy401);
    await a.idle();
    const audited = async () => (await storage.listAuditEvents({ owner: a.udid })).items.length;
    const before = await audited();
    // b's identity, claiming to be a: refused as not a's identity, and nothing is written about a.
    const forged = await b.send(SERVER, { UDID: a.udid, Status: 'Idle' }, { contentType: undefined });
    expect(forged.status).toBe(403);
    expect(await audited()).toBe(before);
    expect(b.enrolled).toBe(true);
    // The blocked device itself still gets the 401.
    expect((await a.send(SERVER, { UDID: a.udid, Status: 'Idle' }, { contentType: undefined })).status).toBe(
      401,
    );
    expect(await audited()).toBe(before + 1);
  }, 60_000);
});

describe("NanoMDM file storage's checked-out enrollments", () => {
  it('are not imported: a Disabled marker keeps the enrollment and its identity out', async () => {
    const from = await startHarness(new MemoryStorage());
    const to = await startHarness(new MemoryStorage());
    const dir = mkdtempSync(join(tmpdir(), 'mdmkit-nanomdm-disabled-'));
    try {
      const a = await VirtualDevice.enroll(await from.profile(), { fetch: from.fetch, platform: 'iOS' });
      const gone = await VirtualDevice.enroll(await from.profile(), { fetch: from.fetch, platform: 'iOS' });
      const out = await VirtualDevice.enroll(await from.profile(), { fetch: from.fetch, platform: 'iOS' });
      await out.checkOut();
      expect(await exportNanomdmFileStorage(from.storage, dir)).toBe(3);
      // Ours marks a checked-out enrollment the same way.
      expect(existsSync(join(dir, out.udid, NANOMDM_FILES.disabled))).toBe(true);
      expect(existsSync(join(dir, a.udid, NANOMDM_FILES.disabled))).toBe(false);
      // NanoMDM writes a zero-byte Disabled file when the device checks out.
      writeFileSync(join(dir, gone.udid, NANOMDM_FILES.disabled), '');
      const report = await importNanomdmFileStorage(dir, to.mdm.lifecycle!.migration, 'ops');
      expect(report.imported).toEqual([a.udid]);
      expect([...report.disabled].sort()).toEqual([gone.udid, out.udid].sort());
      expect(report.failed).toEqual([]);
      expect(await to.storage.getEnrollment(gone.udid)).toBeUndefined();
      expect(await to.storage.enrollmentForCertificate(gone.certificate.fingerprintSha256)).toBeUndefined();
    } finally {
      await from.close();
      await to.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
