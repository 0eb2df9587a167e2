import { securityInfoCommand } from '@mdmkit/commands';
import {
  createSelfSignedCa,
  generateKeyPair,
  issueCertificate,
  parseCertificate,
  pemEncode,
  signCms,
  type Certificate,
} from '@mdmkit/crypto';
import { buildXml, parse } from '@mdmkit/plist';
import { MemoryStorage, type MdmStorage } from '@mdmkit/storage';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import type { KeyObject } from 'node:crypto';
import { createPrivateKey, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, PUBLIC_ORIGIN, startHarness } from './harness';
import { STORAGES } from './storages';

const SERVER = `${PUBLIC_ORIGIN}/mdm/server`;
const CHECKIN = `${PUBLIC_ORIGIN}/mdm/checkin`;

/** Everything storage holds about enrollments, queues and results, as one comparable string. */
async function snapshot(storage: MdmStorage, ids: string[], certHashes: string[] = []): Promise<string> {
  const enrollments: unknown[] = [];
  let after: string | undefined;
  do {
    const page = await storage.exportEnrollments({ limit: 1000, ...(after ? { after } : {}) });
    enrollments.push(...page.items);
    after = page.next;
  } while (after);
  const queues = await Promise.all(ids.map((id) => storage.listQueue(id)));
  const history = await Promise.all(ids.map((id) => storage.listHistory(id)));
  const certs = await Promise.all(certHashes.map((hash) => storage.enrollmentForCertificate(hash)));
  return JSON.stringify({ enrollments, queues, history, certs });
}

function plist(value: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(buildXml(value as never));
}

async function identityFrom(
  issuer: { certificate: Certificate; privateKey: KeyObject },
  dates: { notBefore?: Date; notAfter?: Date } = {},
  extendedKeyUsage: 'clientAuth' | 'serverAuth' = 'clientAuth',
): Promise<{ certificate: Certificate; privateKey: KeyObject }> {
  const key = await generateKeyPair({ type: 'rsa', bits: 2048 });
  const certificate = await issueCertificate({
    subject: { CN: 'intruder' },
    publicKey: key.publicKey,
    issuer: issuer.certificate,
    issuerKey: issuer.privateKey,
    extendedKeyUsage: [extendedKeyUsage],
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    ...(dates.notBefore ? { notBefore: dates.notBefore, notAfter: dates.notAfter } : { validityDays: 30 }),
  });
  return { certificate, privateKey: key.privateKey };
}

/**
 * A leaf signed by a certificate that is not a CA (a device identity): our own issuer refuses to make
 * one, so OpenSSL does, as an attacker would.
 */
function leafUnder(issuer: { certificate: Certificate; privateKey: KeyObject }): {
  certificate: Certificate;
  privateKey: KeyObject;
} {
  const dir = mkdtempSync(join(tmpdir(), 'mdmkit-leaf-'));
  try {
    const o = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    writeFileSync(join(dir, 'issuer.pem'), pemEncode('CERTIFICATE', issuer.certificate.der));
    writeFileSync(join(dir, 'issuer.key'), issuer.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'ext.cnf'), 'extendedKeyUsage = clientAuth\nkeyUsage = digitalSignature\n');
    o(
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'leaf.key',
      '-subj',
      '/CN=under a device',
      '-out',
      'leaf.csr',
    );
    o(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'issuer.pem',
      '-CAkey',
      'issuer.key',
      '-set_serial',
      '7',
      '-days',
      '30',
      '-extfile',
      'ext.cnf',
      '-out',
      'leaf.pem',
    );
    return {
      certificate: parseCertificate(readFileSync(join(dir, 'leaf.pem'), 'utf8')),
      privateKey: createPrivateKey(readFileSync(join(dir, 'leaf.key'))),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
    const hashes = () => [a.certificate.fingerprintSha256, b.certificate.fingerprintSha256];

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

    async function expectRefused(
      run: () => Promise<{ status: number }>,
      code: string,
      expectedStatus = 403,
    ): Promise<void> {
      before = await snapshot(storage, ids(), hashes());
      const count = h.events.length;
      const { status } = await run();
      expect(status).toBe(expectedStatus);
      expect(await snapshot(storage, ids(), hashes())).toBe(before);
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

    it('verifies a reused Idle signature afresh on every request, over the bytes that came with it', async () => {
      // What the fleet sends: one Idle body and its signature, again and again (b has nothing queued).
      const idle = plist({ UDID: b.udid, Status: 'Idle' });
      const signature = await b.sign(idle);
      for (let i = 0; i < 3; i++) {
        expect((await b.send(SERVER, idle, { signature, contentType: undefined })).status).toBe(200);
      }
      // The same Idle with one whitespace byte changed: same length, same meaning, so only a cache of
      // verdicts keyed by the signature (or by anything but the exact body) would let it through.
      const text = new TextDecoder().decode(idle);
      const at = text.indexOf('\n');
      const tweaked = new TextEncoder().encode(`${text.slice(0, at)} ${text.slice(at + 1)}`);
      expect(tweaked.length).toBe(idle.length);
      expect(parse(tweaked)).toEqual(parse(idle));
      await expectRefused(
        () => b.send(SERVER, tweaked, { signature, contentType: undefined }),
        'BAD_IDENTITY',
      );
      expect((await b.send(SERVER, idle, { signature, contentType: undefined })).status).toBe(200);
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

    it('refuses a signature over an empty body, whatever body comes with it', async () => {
      const empty = new Uint8Array(0);
      const overEmpty = Buffer.from(
        await signCms({
          content: empty,
          certificate: a.certificate,
          privateKey: a.identityKey,
          detached: true,
        }),
      ).toString('base64');
      await expectRefused(
        () => a.send(SERVER, empty, { signature: overEmpty, contentType: undefined }),
        'BAD_MESSAGE',
        400,
      );
      await expectRefused(
        () => a.send(SERVER, ackForA(), { signature: overEmpty, contentType: undefined }),
        'BAD_IDENTITY',
      );
    });

    it("refuses a foreign signer that carries a trusted device's certificate in the CMS", async () => {
      const foreignCa = await createSelfSignedCa({ subject: 'CN=Bag Stuffer CA', validityDays: 30 });
      const foreign = await identityFrom(foreignCa);
      const body = plist(ackForA());
      const stuffed = Buffer.from(
        await signCms({
          content: body,
          certificate: foreign.certificate,
          privateKey: foreign.privateKey,
          detached: true,
          certificates: [a.certificate, h.scepCa.ca.certificate],
        }),
      ).toString('base64');
      await expectRefused(
        () => a.send(SERVER, body, { signature: stuffed, contentType: undefined }),
        'UNTRUSTED_CERTIFICATE',
      );
    });

    it('refuses a leaf issued by a device identity (not a CA), even with the chain in the CMS', async () => {
      const underDevice = leafUnder({ certificate: a.certificate, privateKey: a.identityKey });
      const body = plist({ MessageType: 'Authenticate', UDID: a.udid, Topic: h.topic });
      const withChain = Buffer.from(
        await signCms({
          content: body,
          certificate: underDevice.certificate,
          privateKey: underDevice.privateKey,
          detached: true,
          certificates: [a.certificate],
        }),
      ).toString('base64');
      await expectRefused(() => a.send(CHECKIN, body, { signature: withChain }), 'UNTRUSTED_CERTIFICATE');
    });

    it('refuses an identity from the SCEP CA without client-authentication use', async () => {
      const signer = h.scepCa.ca.signer as KeyObject;
      const serverOnly = await identityFrom(
        { certificate: h.scepCa.ca.certificate, privateKey: signer },
        {},
        'serverAuth',
      );
      await expectRefused(
        () =>
          a.send(
            CHECKIN,
            { MessageType: 'Authenticate', UDID: a.udid, Topic: h.topic },
            { signWith: serverOnly },
          ),
        'UNTRUSTED_CERTIFICATE',
      );
    });

    it('refuses two Mdm-Signature headers, whichever comes first', async () => {
      const body = plist(ackForA());
      const sign = async (d: VirtualDevice) =>
        Buffer.from(
          await signCms({
            content: body,
            certificate: d.certificate,
            privateKey: d.identityKey,
            detached: true,
          }),
        ).toString('base64');
      const [sa, sb] = [await sign(a), await sign(b)];
      for (const pair of [
        [sb, sa],
        [sa, sb],
      ]) {
        const headers = new Headers();
        for (const v of pair) headers.append('mdm-signature', v!);
        await expectRefused(() => h.fetch(SERVER, { method: 'PUT', headers, body }), 'BAD_IDENTITY');
      }
    });

    it("refuses a user-channel message and GetBootstrapToken for a device from another device's certificate", async () => {
      await expectRefused(
        () => b.send(CHECKIN, { MessageType: 'UserAuthenticate', UDID: a.udid, UserID: randomUUID() }),
        'NOT_ASSOCIATED',
      );
      await expectRefused(
        () =>
          b.send(SERVER, { UDID: a.udid, UserID: randomUUID(), Status: 'Idle' }, { contentType: undefined }),
        'NOT_ASSOCIATED',
      );
      await expectRefused(
        () => b.send(CHECKIN, { MessageType: 'GetBootstrapToken', UDID: a.udid }),
        'NOT_ASSOCIATED',
      );
    });

    it('answers an oversized body with 413 and changes nothing', async () => {
      before = await snapshot(storage, ids(), hashes());
      const big = new Uint8Array(2 * 1024 * 1024).fill(0x20);
      const { status } = await a.send(SERVER, big, { contentType: undefined });
      expect(status).toBe(413);
      expect(await snapshot(storage, ids(), hashes())).toBe(before);
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

  it('answers a client that never finishes its body with 408, and serves others meanwhile', async () => {
    const h = await startHarness(new MemoryStorage(), {}, { bodyTimeoutMs: 500 });
    try {
      const a = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch });
      const before = await snapshot(h.storage, [a.udid], [a.certificate.fingerprintSha256]);
      const { port } = new URL(h.http.url);
      const socket = connect(Number(port), '127.0.0.1');
      const answered = new Promise<string>((resolve) => {
        let got = '';
        socket.on('data', (d) => (got += d.toString('latin1')));
        socket.on('close', () => resolve(got));
        socket.on('error', () => resolve(got));
      });
      socket.write(`PUT /mdm/server HTTP/1.1\r\nHost: mdm.test\r\nContent-Length: 4096\r\n\r\n<?xml`);
      // The slow client holds nothing up.
      expect(
        (await a.send(SERVER, { UDID: a.udid, Status: 'Idle' }, { contentType: undefined })).status,
      ).toBe(200);
      const started = Date.now();
      expect(await answered).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await snapshot(h.storage, [a.udid], [a.certificate.fingerprintSha256])).toBe(before);
    } finally {
      await h.close();
    }
  });

  it('re-enrolls a wiped device without CheckOut, and stops accepting its old identity', async () => {
    const h = await startHarness(new MemoryStorage());
    try {
      const first = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch });
      const cmd = securityInfoCommand({});
      await h.mdm.enqueue(cmd, [first.udid], { push: false });
      // The same hardware, wiped: a new identity from the SCEP CA, the same UDID, no CheckOut before.
      const again = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch, udid: first.udid });
      const enrollment = await h.storage.getEnrollment(first.udid);
      expect(enrollment?.enabled).toBe(true);
      expect(enrollment?.tokenUpdateTally).toBe(1);
      expect(await h.storage.listQueue(first.udid)).toEqual([]);
      expect(await h.storage.enrollmentForCertificate(again.certificate.fingerprintSha256)).toBe(first.udid);
      expect(await h.storage.enrollmentForCertificate(first.certificate.fingerprintSha256)).toBeUndefined();
      const count = h.events.length;
      const stale = await first.send(
        SERVER,
        { UDID: first.udid, Status: 'Idle' },
        { contentType: undefined },
      );
      expect(stale.status).toBe(403);
      const rejected = h.events.slice(count).find((e) => e.type === 'rejected');
      expect(rejected?.type === 'rejected' && rejected.error.code).toBe('NOT_ASSOCIATED');
      expect(await again.poll()).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('refuses a new identity for an enabled enrollment in strict mode, changing nothing', async () => {
    const h = await startHarness(new MemoryStorage(), { refuseReenrollmentWhileEnabled: true });
    try {
      const a = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch });
      const intruder = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch });
      const hashes = [a.certificate.fingerprintSha256, intruder.certificate.fingerprintSha256];
      const before = await snapshot(h.storage, [a.udid, intruder.udid], hashes);
      const res = await intruder.send(CHECKIN, { MessageType: 'Authenticate', UDID: a.udid, Topic: h.topic });
      expect(res.status).toBe(403);
      expect(await snapshot(h.storage, [a.udid, intruder.udid], hashes)).toBe(before);
      await a.checkOut();
      const again = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch, udid: a.udid });
      expect(await h.storage.enrollmentForCertificate(again.certificate.fingerprintSha256)).toBe(a.udid);
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
      // The old identity no longer opens this enrollment.
      expect(await h.storage.enrollmentForCertificate(first.certificate.fingerprintSha256)).toBeUndefined();
    } finally {
      await h.close();
    }
  });
});
