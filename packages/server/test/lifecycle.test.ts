import { deviceInformationCommand } from '@mdmkit/commands';
import { activationSimple, passcodeSettings } from '@mdmkit/declarative';
import { type HttpRequest, serve } from '@mdmkit/http';
import { type MdmStorage, MemoryStorage } from '@mdmkit/storage';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMdmServer,
  createMigrationHandler,
  exportMigrationCheckins,
  exportNanomdmFileStorage,
  importNanomdmFileStorage,
  type LifecycleStorage,
  MIGRATED_CERTIFICATE_HASH_HEADER,
  NANOMDM_FILES,
  RENEWAL_CN_PREFIX,
} from '../src/index';
import { type Harness, PUBLIC_ORIGIN, startHarness } from './harness';
import { STORAGES } from './storages';
import { waitFor } from './wait';

/** The MinimumLength of the passcode declaration a device holds. */
function minimumLength(d: VirtualDevice): number | undefined {
  const payload = d.declarations.get('configuration/passcode')?.Payload as
    | { MinimumLength?: number }
    | undefined;
  return payload?.MinimumLength;
}
const SERVER = `${PUBLIC_ORIGIN}/mdm/server`;

function lifecycleOf(h: Harness) {
  const l = h.mdm.lifecycle;
  if (!l) throw new Error('lifecycle is off');
  return l;
}

async function auditActions(storage: MdmStorage, owner: string): Promise<string[]> {
  return (await (storage as LifecycleStorage).listAuditEvents({ owner })).items.map((e) => e.action);
}

for (const backend of STORAGES) {
  describe.skipIf(!backend.available)(`an enrollment's later life on ${backend.name}`, () => {
    let h: Harness;
    let destroy: () => Promise<void>;
    let storage: MdmStorage;

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

    const enroll = async (options: Parameters<typeof VirtualDevice.enroll>[1] = {}) => {
      const d = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch, ...options });
      h.apns.registerDevice(d.pushToken, () => d.receivePush());
      return d;
    };

    it('runs the DDM conversation from a declaration set, and syncs again after a change', async () => {
      const d = await enroll({
        platform: 'macOS',
        pendingUpdate: { osVersion: '15.2', buildVersion: '24C101' },
      });
      const ddm = lifecycleOf(h).declarations;
      const passcode = (min: number) => passcodeSettings({ MinimumLength: min }, { identifier: 'passcode' });
      const activation = activationSimple(
        { StandardConfigurations: ['passcode'] },
        { identifier: 'activate' },
      );
      await ddm.putSet(`device:${d.udid}`, [passcode(6), activation]);
      const { synced } = await ddm.assign(`device:${d.udid}`, [d.udid]);
      expect(synced).toEqual([d.udid]);
      await waitFor(() => d.declarations.size === 2);
      await d.idle();
      expect(minimumLength(d)).toBe(6);
      const first = await lifecycleOf(h).ddmStatus(d.udid);
      const states = first?.items['management.declarations'];
      expect(states?.configurations).toEqual([
        expect.objectContaining({ identifier: 'passcode', active: true, valid: 'valid' }),
      ]);
      expect(first?.items['softwareupdate.pending-version']).toEqual({
        'os-version': '15.2',
        'build-version': '24C101',
      });
      expect(first?.items['diskmanagement.filevault.enabled']).toBe(true);
      expect(first?.nonConforming).toEqual({});

      // A change re-syncs the device, which fetches only what changed.
      const before = d.handled.filter((c) => c.requestType === 'DeclarativeManagement').length;
      await ddm.putSet(`device:${d.udid}`, [passcode(10), activation]);
      await waitFor(
        () => d.handled.filter((c) => c.requestType === 'DeclarativeManagement').length === before + 1,
      );
      await d.idle();
      await waitFor(() => minimumLength(d) === 10);
      const again = await d.syncDeclarations();
      expect(again.fetched).toEqual([]);
      const history = await (storage as LifecycleStorage).listDdmStatus(d.udid);
      expect(history.items.length).toBeGreaterThanOrEqual(3);

      // A group set adds to the device's own; an endpoint the protocol does not define is refused.
      await ddm.putSet('group:all', [
        passcodeSettings({ RequireAlphanumericPasscode: true }, { identifier: 'alnum' }),
      ]);
      await ddm.assign('group:all', [d.udid]);
      await waitFor(() => d.declarations.has('configuration/alnum'));
      const bad = await d.send(`${PUBLIC_ORIGIN}/mdm/checkin`, {
        MessageType: 'DeclarativeManagement',
        UDID: d.udid,
        Endpoint: '../../etc/passwd',
      });
      expect(bad.status).toBe(400);
      const missing = await d.send(`${PUBLIC_ORIGIN}/mdm/checkin`, {
        MessageType: 'DeclarativeManagement',
        UDID: d.udid,
        Endpoint: 'declaration/configuration/nothing-here',
      });
      expect(missing.status).toBe(404);
    }, 120_000);

    it('renews an identity certificate near expiry; the old one stops after the grace period', async () => {
      // Identities that live 20 days are within the 30-day window from the start.
      const opened = await backend.open();
      const graceMs = 3000;
      const r = await startHarness(opened.storage, {
        scep: { policy: { validityDays: 20 } },
        lifecycle: { renewal: { graceMs } },
      });
      try {
        const d = await VirtualDevice.enroll(await r.profile(), { fetch: r.fetch, platform: 'iOS' });
        const oldCert = d.certificate;
        const oldKey = d.identityKey;
        const run = await lifecycleOf(r).renewal.runOnce();
        expect(run).toEqual({ ran: true, enqueued: [d.udid] });
        // A renewal already pending is not enqueued twice.
        expect((await lifecycleOf(r).renewal.runOnce()).enqueued).toEqual([]);
        const handled = await d.poll();
        expect(handled.map((c) => [c.requestType, c.status])).toEqual([['InstallProfile', 'Acknowledged']]);
        expect(d.renewals).toBe(1);
        expect(d.certificate.fingerprintSha256).not.toBe(oldCert.fingerprintSha256);
        expect(d.certificate.subject.get('CN')?.startsWith(RENEWAL_CN_PREFIX)).toBe(true);
        expect(await opened.storage.enrollmentForCertificate(d.certificate.fingerprintSha256)).toBe(d.udid);
        expect(r.events.filter((e) => e.type === 'identity-renewed')).toHaveLength(1);
        // The renewed device keeps working with its new identity.
        const { commandUuid } = await r.mdm.enqueue(
          deviceInformationCommand({ Queries: ['UDID'] }),
          [d.udid],
          {
            push: false,
          },
        );
        expect((await d.poll()).map((c) => c.commandUuid)).toEqual([commandUuid]);
        // Within the grace period the old certificate still works; after it, it is refused.
        const idle = { UDID: d.udid, Status: 'Idle' };
        const signWith = { certificate: oldCert, privateKey: oldKey };
        expect((await d.send(SERVER, idle, { signWith, contentType: undefined })).status).toBe(200);
        await new Promise((done) => setTimeout(done, graceMs + 200));
        expect((await d.send(SERVER, idle, { signWith, contentType: undefined })).status).toBe(403);
        expect(await d.poll()).toEqual([]);
        // Another enrolled device from the same CA cannot use a renewal CN to take this enrollment.
        const other = await VirtualDevice.enroll(await r.profile(), { fetch: r.fetch, platform: 'iOS' });
        const taken = await other.send(SERVER, { UDID: d.udid, Status: 'Idle' }, { contentType: undefined });
        expect(taken.status).toBe(403);
      } finally {
        await r.close();
        await opened.destroy();
      }
    }, 120_000);

    it('answers a blocked device 401 exactly once, audited; the device unenrolls and sends nothing more', async () => {
      const d = await enroll({ platform: 'iOS' });
      const before = h.events.length;
      await lifecycleOf(h).block(d.udid, { actor: 'alice', reason: 'reported stolen' });
      await waitFor(() => d.unenrolledBy401);
      await d.idle();
      await expect(d.poll()).rejects.toMatchObject({ code: 'UNENROLLED' });
      await expect(d.checkOut()).rejects.toMatchObject({ code: 'UNENROLLED' });
      expect(d.unauthorizedAnswers).toBe(1);
      const blocked = h.events
        .slice(before)
        .filter((e) => e.type === 'rejected' && e.error.code === 'BLOCKED');
      expect(blocked).toHaveLength(1);
      expect(await auditActions(storage, d.udid)).toEqual(['enrollment.block', 'enrollment.block.answered']);
      expect((await storage.getEnrollment(d.udid))?.enabled).toBe(false);
      expect(await lifecycleOf(h).unblock(d.udid, { actor: 'alice', reason: 'found' })).toBe(true);
      expect(await auditActions(storage, d.udid)).toContain('enrollment.unblock');
    }, 60_000);

    it('removes an enrollment: RemoveProfile of the MDM profile, then the CheckOut disables it', async () => {
      const d = await enroll({ platform: 'macOS' });
      const { commandUuid } = await lifecycleOf(h).remove(d.udid, { actor: 'bob', reason: 'retired' });
      await waitFor(() => !d.enrolled);
      expect(d.handled.at(-1)).toMatchObject({ commandUuid, requestType: 'RemoveProfile' });
      expect(d.profiles.some((p) => p.PayloadIdentifier === d.mdmProfileId)).toBe(false);
      await waitFor(() => h.events.some((e) => e.type === 'check-out' && e.enrollmentId === d.udid));
      expect((await storage.getEnrollment(d.udid))?.enabled).toBe(false);
      expect(await auditActions(storage, d.udid)).toEqual(['enrollment.remove']);
      await expect(
        lifecycleOf(h).remove('no-such-device', { actor: 'bob', reason: 'x' }),
      ).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    }, 60_000);

    it('seals bootstrap tokens and answers GetBootstrapToken only for the enrollment that set it', async () => {
      const a = await enroll({ platform: 'macOS' });
      const b = await enroll({ platform: 'macOS' });
      const token = new TextEncoder().encode(`bootstrap-${a.udid}`);
      await a.setBootstrapToken(token);
      expect(await a.getBootstrapToken()).toEqual(token);
      expect(await b.getBootstrapToken()).toBeUndefined();
      // b's identity cannot ask for a's token.
      const stolen = await b.send(`${PUBLIC_ORIGIN}/mdm/checkin`, {
        MessageType: 'GetBootstrapToken',
        UDID: a.udid,
      });
      expect(stolen.status).toBe(403);
      const stored = await storage.getBootstrapToken(a.udid);
      expect(Buffer.from(stored!).includes(Buffer.from(token))).toBe(false);
    }, 60_000);
  });

  describe.skipIf(!backend.available)(`migration from another MDM on ${backend.name}`, () => {
    let oldMdm: Harness;
    let newMdm: Harness;
    let closers: (() => Promise<void>)[] = [];
    let live: Harness;
    const fetchLive: typeof fetch = (input, init) => live.fetch(input, init);

    beforeAll(async () => {
      const a = await backend.open();
      const b = await backend.open();
      oldMdm = await startHarness(a.storage);
      newMdm = await startHarness(b.storage);
      closers = [() => oldMdm.close(), () => newMdm.close(), a.destroy, b.destroy];
      live = oldMdm;
    });
    afterAll(async () => {
      for (const c of closers) await c();
    });

    it('moves 20 devices enrolled against a separate CA without re-enrollment', async () => {
      const devices: VirtualDevice[] = [];
      for (let i = 0; i < 21; i++) {
        devices.push(
          await VirtualDevice.enroll(await oldMdm.profile(), { fetch: fetchLive, platform: 'iOS' }),
        );
      }
      const [stranger, ...moved] = devices as [VirtualDevice, ...VirtualDevice[]];
      // The new server does not trust the old server's CA.
      expect(oldMdm.scepCa.ca.certificate.fingerprintSha256).not.toBe(
        newMdm.scepCa.ca.certificate.fingerprintSha256,
      );

      const migration = createMigrationHandler({
        importer: lifecycleOf(newMdm).migration,
        authorize: (req: HttpRequest) =>
          req.headers.get('authorization') === 'Bearer migrate-now' ? 'migration-tool' : false,
      });
      const server = await serve(migration, { port: 0 });
      try {
        const put = (body: Uint8Array, headers: Record<string, string>) =>
          fetch(server.url, {
            method: 'PUT',
            body,
            headers: { authorization: 'Bearer migrate-now', ...headers },
          });
        const exported = [];
        for await (const e of exportMigrationCheckins(oldMdm.storage)) exported.push(e);
        const wanted = new Set(moved.map((d) => d.udid));
        let sent = 0;
        for (const e of exported) {
          if (!wanted.has(e.enrollmentId)) continue;
          const auth = await put(e.authenticate!, {
            [MIGRATED_CERTIFICATE_HASH_HEADER]: e.certificateHashes[0]!,
          });
          expect(auth.status).toBe(200);
          expect((await put(e.tokenUpdate!, {})).status).toBe(200);
          sent++;
        }
        expect(sent).toBe(20);
        const refused = await fetch(server.url, { method: 'PUT', body: exported[0]!.authenticate! });
        expect(refused.status).toBe(403);
        const unpinned = await put(exported[0]!.authenticate!, {});
        expect(unpinned.status).toBe(400);
      } finally {
        await server.close();
      }

      live = newMdm;
      const cmd = deviceInformationCommand({ Queries: ['UDID', 'SerialNumber'] });
      await newMdm.mdm.enqueue(
        cmd,
        moved.map((d) => d.udid),
        { push: false },
      );
      for (const d of moved) {
        const handled = await d.poll();
        expect(handled.map((c) => c.commandUuid)).toEqual([cmd.CommandUUID]);
      }
      const results = await newMdm.storage.getResults(cmd.CommandUUID);
      expect(results.filter((r) => r.status === 'Acknowledged')).toHaveLength(20);
      const accepted = newMdm.events.filter((e) => e.type === 'migrated-identity-accepted');
      expect(new Set(accepted.map((e) => (e as { enrollmentId: string }).enrollmentId)).size).toBe(20);
      // A device of the old CA that was not migrated is not trusted; nor is a migrated identity for another UDID.
      await expect(stranger.poll()).rejects.toMatchObject({ code: 'REQUEST_FAILED' });
      const [one, two] = moved as [VirtualDevice, VirtualDevice];
      const other = await one.send(SERVER, { UDID: two.udid, Status: 'Idle' }, { contentType: undefined });
      expect(other.status).toBe(403);
      const audits = await (newMdm.storage as LifecycleStorage).listAuditEvents({ limit: 100 });
      expect(audits.items.filter((e) => e.action === 'enrollment.migrated')).toHaveLength(20);

      // The same enrollments out again in NanoMDM's file-storage layout, and into a third server.
      const dir = mkdtempSync(join(tmpdir(), 'mdmkit-nanomdm-'));
      const c = await backend.open();
      const third = await startHarness(c.storage);
      try {
        expect(await exportNanomdmFileStorage(newMdm.storage, dir)).toBe(20);
        expect(readdirSync(join(dir, one.udid)).sort()).toEqual(
          [NANOMDM_FILES.authenticate, NANOMDM_FILES.certHash, NANOMDM_FILES.tokenUpdate].sort(),
        );
        const report = await importNanomdmFileStorage(dir, lifecycleOf(third).migration, 'ops');
        expect(report.failed).toEqual([]);
        expect(report.imported).toHaveLength(20);
        live = third;
        await third.mdm.enqueue(cmd, [one.udid], { push: false });
        expect((await one.poll()).map((x) => x.commandUuid)).toEqual([cmd.CommandUUID]);
      } finally {
        await third.close();
        await c.destroy();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 600_000);
  });
}

describe('identity records of earlier enrollments', () => {
  it('records the identity of an enrollment made before the records existed, so it comes up for renewal', async () => {
    const storage = new MemoryStorage();
    const before = await startHarness(storage, { lifecycle: false, scep: { policy: { validityDays: 20 } } });
    let live: typeof fetch = before.fetch;
    const d = await VirtualDevice.enroll(await before.profile(), {
      fetch: (input, init) => live(input, init),
    });
    expect(before.mdm.lifecycle).toBeUndefined();
    const hash = d.certificate.fingerprintSha256;
    expect(await storage.getIdentityCertificate(hash)).toBeUndefined();
    await before.close();
    // The same storage and CA behind a server with the lifecycle on.
    const mdm = createMdmServer({
      storage,
      keyProvider: before.keyProvider,
      serverUrl: `${PUBLIC_ORIGIN}/mdm/server`,
      checkInUrl: `${PUBLIC_ORIGIN}/mdm/checkin`,
      topic: before.topic,
      scep: { ca: before.scepCa.ca },
      pusher: { push: async () => ({ delivered: [], failed: [] }), close: async () => {} },
    });
    const http = await serve(mdm.handler, { port: 0 });
    live = (input, init) => fetch(String(input).replace(PUBLIC_ORIGIN, http.url.replace(/\/$/, '')), init);
    try {
      const renewal = mdm.lifecycle!.renewal;
      expect((await renewal.runOnce()).enqueued).toEqual([]);
      await d.poll();
      expect(await storage.getIdentityCertificate(hash)).toMatchObject({
        enrollmentId: d.udid,
        trust: 'issued',
      });
      expect((await renewal.runOnce()).enqueued).toEqual([d.udid]);
    } finally {
      await mdm.close();
      await http.close();
    }
  }, 60_000);
});
