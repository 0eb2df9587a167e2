import { securityInfoCommand } from '@mdmkit/commands';
import { createSelfSignedCa, generateKeyPair, issueCertificate, type Certificate } from '@mdmkit/crypto';
import { buildXml } from '@mdmkit/plist';
import { MemoryStorage, type MdmStorage } from '@mdmkit/storage';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, PUBLIC_ORIGIN, startHarness } from './harness';
import { STORAGES } from './storages';

const SERVER = `${PUBLIC_ORIGIN}/mdm/server`;
const CHECKIN = `${PUBLIC_ORIGIN}/mdm/checkin`;

/** Everything storage holds about enrollments, queues and results, as one comparable string. */
async function snapshot(storage: MdmStorage, ids: string[]): Promise<string> {
  const enrollments: unknown[] = [];
  let after: string | undefined;
  do {
    const page = await storage.exportEnrollments({ limit: 1000, ...(after ? { after } : {}) });
    enrollments.push(...page.items);
    after = page.next;
  } while (after);
  const queues = await Promise.all(ids.map((id) => storage.listQueue(id)));
  const history = await Promise.all(ids.map((id) => storage.listHistory(id)));
  const certs = await Promise.all(ids.map((id) => storage.enrollmentForCertificate(id)));
  return JSON.stringify({ enrollments, queues, history, certs });
}

function plist(value: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(buildXml(value as never));
}

async function identityFrom(
  issuer: { certificate: Certificate; privateKey: KeyObject },
  dates: { notBefore?: Date; notAfter?: Date } = {},
): Promise<{ certificate: Certificate; privateKey: KeyObject }> {
  const key = await generateKeyPair({ type: 'rsa', bits: 2048 });
  const certificate = await issueCertificate({
    subject: { CN: 'intruder' },
    publicKey: key.publicKey,
    issuer: issuer.certificate,
    issuerKey: issuer.privateKey,
    extendedKeyUsage: ['clientAuth'],
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    ...(dates.notBefore ? { notBefore: dates.notBefore, notAfter: dates.notAfter } : { validityDays: 30 }),
  });
  return { certificate, privateKey: key.privateKey };
}

for (const backend of STORAGES) {
  describe.skipIf(!backend.available)(`identity attack matrix on ${backend.name}`, () => {
    let h: Harness;
    let destroy: () => Promise<void>;
    let storage: MdmStorage;
    let a: VirtualDevice;
    let b: VirtualDevice;
    let pending: string;
    let before: string;
    const ids = () => [a.udid, b.udid];

    beforeAll(async () => {
      const opened = await backend.open();
      storage = opened.storage;
      destroy = opened.destroy;
      // Only 192.0.2.10 may forward client certificates; the test client at 127.0.0.1 may not.
      h = await startHarness(storage, {}, { trustedProxies: ['192.0.2.10'] });
      a = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch });
      b = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch });
      const cmd = securityInfoCommand({});
      pending = cmd.CommandUUID;
      await h.mdm.enqueue(cmd, [a.udid], { push: false });
    });
    afterAll(async () => {
      await h?.close();
      await destroy?.();
    });

    async function expectRefused(run: () => Promise<{ status: number }>, code: string): Promise<void> {
      before = await snapshot(storage, ids());
      const count = h.events.length;
      const { status } = await run();
      expect(status).toBe(403);
      expect(await snapshot(storage, ids())).toBe(before);
      const rejected = h.events.slice(count).find((e) => e.type === 'rejected');
      expect(rejected?.type === 'rejected' && rejected.error.code).toBe(code);
    }

    const ackForA = () => ({ UDID: a.udid, Status: 'Acknowledged', CommandUUID: pending, SecurityInfo: {} });

    it("refuses another device's certificate with its own signature", async () => {
      const asB = {
        signWith: { certificate: b.certificate, privateKey: b.identityKey },
        contentType: undefined,
      };
      await expectRefused(() => b.send(SERVER, ackForA(), asB), 'NOT_ASSOCIATED');
      await expectRefused(
        () =>
          b.send(CHECKIN, {
            MessageType: 'TokenUpdate',
            UDID: a.udid,
            Topic: h.topic,
            Token: new Uint8Array(32),
            PushMagic: 'x',
          }),
        'NOT_ASSOCIATED',
      );
      await expectRefused(
        () => b.send(CHECKIN, { MessageType: 'CheckOut', UDID: a.udid, Topic: h.topic }),
        'NOT_ASSOCIATED',
      );
    });

    it('refuses a forged signature (the right certificate, signed with another key)', async () => {
      const forged = {
        signWith: { certificate: a.certificate, privateKey: b.identityKey },
        contentType: undefined,
      };
      await expectRefused(() => b.send(SERVER, ackForA(), forged), 'BAD_IDENTITY');
    });

    it('refuses an expired certificate from the SCEP CA', async () => {
      const day = 86_400_000;
      const expired = await identityFrom(
        { certificate: h.scepCa.certificate, privateKey: h.scepCa.ca.signer as KeyObject },
        { notBefore: new Date(Date.now() - 3 * day), notAfter: new Date(Date.now() - day) },
      );
      await expectRefused(
        () =>
          a.send(
            CHECKIN,
            { MessageType: 'Authenticate', UDID: randomUUID(), Topic: h.topic },
            { signWith: expired },
          ),
        'UNTRUSTED_CERTIFICATE',
      );
      await expectRefused(
        () => a.send(SERVER, ackForA(), { signWith: expired, contentType: undefined }),
        'UNTRUSTED_CERTIFICATE',
      );
    });

    it('refuses a certificate from a foreign CA', async () => {
      const foreignCa = await createSelfSignedCa({ subject: 'CN=Not Our CA', validityDays: 30 });
      const foreign = await identityFrom(foreignCa);
      await expectRefused(
        () =>
          a.send(
            CHECKIN,
            { MessageType: 'Authenticate', UDID: randomUUID(), Topic: h.topic },
            { signWith: foreign },
          ),
        'UNTRUSTED_CERTIFICATE',
      );
      await expectRefused(
        () => a.send(SERVER, ackForA(), { signWith: foreign, contentType: undefined }),
        'UNTRUSTED_CERTIFICATE',
      );
    });

    it('refuses a signed request replayed with another body', async () => {
      const idle = plist({ UDID: a.udid, Status: 'Idle' });
      const signature = await a.sign(idle);
      await expectRefused(
        () => a.send(SERVER, plist(ackForA()), { signature, contentType: undefined }),
        'BAD_IDENTITY',
      );
    });

    it("ignores another device's certificate in a proxy header from an untrusted address", async () => {
      const header = `:${Buffer.from(a.certificate.der).toString('base64')}:`;
      await expectRefused(async () => {
        const res = await h.fetch(SERVER, {
          method: 'PUT',
          headers: { 'client-cert': header },
          body: plist(ackForA()),
        });
        return { status: res.status };
      }, 'NO_IDENTITY');
      // With B's own signature beside the header, B is who the server sees: B, not A.
      await expectRefused(
        () => b.send(SERVER, ackForA(), { headers: { 'client-cert': header }, contentType: undefined }),
        'NOT_ASSOCIATED',
      );
    });

    it('refuses an Authenticate from a foreign identity claiming an enrolled UDID', async () => {
      await expectRefused(
        () =>
          b.send(CHECKIN, {
            MessageType: 'Authenticate',
            UDID: a.udid,
            Topic: h.topic,
            SerialNumber: 'EVIL',
          }),
        'NOT_ASSOCIATED',
      );
      const foreignCa = await createSelfSignedCa({ subject: 'CN=Another Foreign CA', validityDays: 30 });
      const foreign = await identityFrom(foreignCa);
      await expectRefused(
        () =>
          a.send(
            CHECKIN,
            { MessageType: 'Authenticate', UDID: a.udid, Topic: h.topic },
            { signWith: foreign },
          ),
        'UNTRUSTED_CERTIFICATE',
      );
    });

    it('refuses a fresh identity from the SCEP CA that tries to take over an enabled enrollment', async () => {
      const intruder = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch });
      await expectRefused(
        () => intruder.send(CHECKIN, { MessageType: 'Authenticate', UDID: a.udid, Topic: h.topic }),
        'NOT_ASSOCIATED',
      );
    });

    it('still serves the real devices after every attack', async () => {
      const handled = await a.poll();
      expect(handled.map((x) => [x.commandUuid, x.status])).toEqual([[pending, 'Acknowledged']]);
      expect(await b.poll()).toEqual([]);
    });
  });
}

describe('answers that are not attacks', () => {
  it('honours the proxy header from a trusted proxy', async () => {
    const h = await startHarness(
      new MemoryStorage(),
      {},
      { trustedProxies: ['127.0.0.1', '::1', '::ffff:127.0.0.1'] },
    );
    try {
      const a = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch });
      const header = `:${Buffer.from(a.certificate.der).toString('base64')}:`;
      const res = await h.fetch(SERVER, {
        method: 'PUT',
        headers: { 'client-cert': header },
        body: plist({ UDID: a.udid, Status: 'Idle' }),
      });
      expect(res.status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('answers 401 only to a device blocked on purpose', async () => {
    const blocked = new Set<string>();
    const h = await startHarness(new MemoryStorage(), { isBlocked: (id) => blocked.has(id) });
    try {
      const a = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch });
      const idle = { UDID: a.udid, Status: 'Idle' };
      expect((await a.send(SERVER, idle, { contentType: undefined })).status).toBe(200);
      blocked.add(a.udid);
      expect((await a.send(SERVER, idle, { contentType: undefined })).status).toBe(401);
      // Broken input from a blocked device's neighbour is 400, never 401.
      expect(
        (await a.send(SERVER, new TextEncoder().encode('not a plist'), { contentType: undefined })).status,
      ).toBe(400);
    } finally {
      await h.close();
    }
  });

  it('answers 500, not 401, when storage fails', async () => {
    const storage = new MemoryStorage();
    const h = await startHarness(storage);
    try {
      const a = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch });
      storage.recordResult = () => Promise.reject(new Error('database is down'));
      expect(
        (await a.send(SERVER, { UDID: a.udid, Status: 'Idle' }, { contentType: undefined })).status,
      ).toBe(500);
      expect(h.events.some((e) => e.type === 'error')).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('serves enrollment profiles only to requests the authorize callback accepts', async () => {
    const h = await startHarness(
      new MemoryStorage(),
      {},
      {},
      (req) => req.query.get('token') === 'let-me-in',
    );
    try {
      const denied = await h.fetch(`${PUBLIC_ORIGIN}/mdm/enroll`);
      expect(denied.status).toBe(403);
      const profile = await h.profile('?token=let-me-in');
      const device = await VirtualDevice.enroll(profile, { fetch: h.fetch });
      expect((await h.storage.getEnrollment(device.udid))?.enabled).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('lets a device that checked out re-enroll under its UDID with a new identity', async () => {
    const h = await startHarness(new MemoryStorage());
    try {
      const first = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch });
      await first.checkOut();
      const again = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch, udid: first.udid });
      expect(again.certificate.fingerprintSha256).not.toBe(first.certificate.fingerprintSha256);
      expect((await h.storage.getEnrollment(first.udid))?.enabled).toBe(true);
      // The old identity still belongs to this enrollment, never to another one.
      expect(await h.storage.enrollmentForCertificate(first.certificate.fingerprintSha256)).toBe(first.udid);
    } finally {
      await h.close();
    }
  });
});
