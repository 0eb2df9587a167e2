import { connect as tlsConnect } from 'node:tls';
import { createLocalKeyProvider } from '@mdmkit/crypto';
import { createSecretVault } from '@mdmkit/escrow';
import type { AuditEventStore, SecretStore } from '@mdmkit/storage';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { afterAll, describe, expect, it } from 'vitest';
import { ROUTE_TABLE } from '../src/index';
import { api, freshDirs, type ServerProcess, samplePath, startServer } from './helpers';

/** Routes whose callers need a token, as the route table says. */
const GUARDED = ROUTE_TABLE.filter(
  (r) => r.permission === 'read' || r.permission === 'write' || r.permission === 'admin',
);

/**
 * What every storage must give a user of the server: a start on an empty data directory, enrollment
 * of virtual devices, roles enforced on every guarded route of the table, and a restart that keeps
 * the CA, the tokens and the enrollments.
 */
export function serverScenario(
  name: string,
  storageArgs: () => string[],
  /** Opens the server's storage from the test process, as another replica would. */
  openSameStorage: (dataDir: string) => Promise<SecretStore & AuditEventStore & { close(): Promise<void> }>,
): void {
  describe(`mdmkit-server on ${name}`, () => {
    const dirs = freshDirs();
    const args = () => ['--data-dir', dirs.dataDir, '--kek-file', dirs.kekFile, ...storageArgs()];
    let server: ServerProcess;
    let admin: string;
    let observer: string;
    let maintainer: string;
    let caPem: string;
    let port: number;
    const devices: VirtualDevice[] = [];

    afterAll(async () => {
      await server?.stop();
    });

    it('starts on an empty data directory with a generated admin token, printed once', async () => {
      server = await startServer(args());
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      admin = server.printedToken!;
      expect(admin).toMatch(/^mdmk_[A-Za-z0-9_-]{43}$/);
      const health = await api(server, 'GET', '/health', undefined);
      expect(health.status).toBe(200);
      expect(health.json).toEqual({ status: 'ok', storage: 'ok' });
      const me = await api(server, 'GET', '/api/v1/me', admin);
      expect(me.json).toMatchObject({ user: 'admin', role: 'admin' });
      caPem = (await api(server, 'GET', '/api/v1/certificates', admin)).json.scepCa;
      expect(caPem).toContain('BEGIN CERTIFICATE');
      // The token is stored hashed: it appears nowhere in the logs.
      expect(server.stderr()).not.toContain(admin);
    });

    it('enrolls virtual devices from /mdm/enroll, each with its own one-time challenge', async () => {
      for (const platform of ['macOS', 'iOS'] as const) {
        const res = await server.fetch(`${server.url}/mdm/enroll`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('application/x-apple-aspen-config');
        const profile = new Uint8Array(await res.arrayBuffer());
        devices.push(await VirtualDevice.enroll(profile, { platform, fetch: server.fetch }));
      }
      for (const d of devices) expect(await d.poll()).toEqual([]);
      const metrics = await api(server, 'GET', '/metrics', admin);
      expect(metrics.status).toBe(200);
      expect(metrics.text).toContain('mdmkit_checkins_total{type="Authenticate"} 2');
      expect(metrics.text).toContain('mdmkit_checkins_total{type="TokenUpdate"} 2');
      expect(metrics.text).toMatch(
        /mdmkit_http_request_duration_seconds_bucket\{route="mdm.connect",le="\+Inf"\} [1-9]/,
      );
    });

    it("queues commands through the JSON API and NanoMDM's route; devices answer; results read back", async () => {
      const [mac, phone] = devices as [VirtualDevice, VirtualDevice];
      const queued = await api(server, 'POST', '/api/v1/commands', admin, {
        enrollmentIds: [mac.udid],
        command: { requestType: 'DeviceInformation', payload: { Queries: ['OSVersion', 'SerialNumber'] } },
        push: false,
      });
      expect(queued.status, queued.text).toBe(201);
      const jsonUuid = queued.json.commandUuid as string;
      const plist = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>CommandUUID</key><string>nanomdm-style-0001</string>
<key>Command</key><dict><key>RequestType</key><string>ProfileList</string></dict>
</dict></plist>`;
      const nano = await server.fetch(`${server.url}/v1/enqueue/${phone.udid}?nopush=1`, {
        method: 'PUT',
        headers: { authorization: `Basic ${Buffer.from(`nanomdm:${admin}`).toString('base64')}` },
        body: plist,
      });
      expect(nano.status).toBe(200);
      expect(await nano.json()).toMatchObject({
        command_uuid: 'nanomdm-style-0001',
        request_type: 'ProfileList',
        no_push: true,
      });
      expect((await mac.poll()).map((h) => [h.commandUuid, h.status])).toEqual([[jsonUuid, 'Acknowledged']]);
      expect((await phone.poll()).map((h) => [h.commandUuid, h.status])).toEqual([
        ['nanomdm-style-0001', 'Acknowledged'],
      ]);
      for (const [uuid, udid] of [
        [jsonUuid, mac.udid],
        ['nanomdm-style-0001', phone.udid],
      ] as const) {
        const results = await api(server, 'GET', `/api/v1/commands/${uuid}/results`, admin);
        expect(results.status).toBe(200);
        expect(results.json.results).toEqual([
          expect.objectContaining({ enrollmentId: udid, status: 'Acknowledged' }),
        ]);
      }
      const listed = await api(server, 'GET', '/api/v1/enrollments', admin);
      expect(listed.json.items.map((e: { id: string }) => e.id).sort()).toEqual(
        [mac.udid, phone.udid].sort(),
      );
      const metrics = await api(server, 'GET', '/metrics', admin);
      expect(metrics.text).toContain('mdmkit_command_results_total{status="Acknowledged"} 2');
      expect(metrics.text).toContain('mdmkit_commands_delivered_total 2');
    });

    it('creates users with roles; every guarded route of the table refuses a missing or wrong token', async () => {
      const o = await api(server, 'POST', '/api/v1/users', admin, { name: 'olga', role: 'observer' });
      expect(o.status).toBe(201);
      observer = o.json.token;
      const m = await api(server, 'POST', '/api/v1/users', admin, { name: 'max', role: 'maintainer' });
      expect(m.status).toBe(201);
      maintainer = m.json.token;
      expect(GUARDED.length).toBeGreaterThan(5);
      for (const route of GUARDED) {
        const path = samplePath(route.path);
        for (const token of [undefined, 'mdmk_not-a-real-token-at-all-000000000000000', `${admin}x`]) {
          const r = await api(server, route.method, path, token, route.method === 'POST' ? {} : undefined);
          expect(r.status, `${route.name} with ${token === undefined ? 'no' : 'a wrong'} token`).toBe(401);
          expect(r.json?.error?.code).toBe('UNAUTHENTICATED');
        }
        const basic = await server.fetch(`${server.url}${path}`, {
          method: route.method,
          headers: { authorization: `Basic ${Buffer.from('nanomdm:wrong-password').toString('base64')}` },
        });
        expect(basic.status, `${route.name} with a wrong basic password`).toBe(401);
      }
    });

    it('an observer can read but change nothing; a maintainer cannot administer', async () => {
      const usersBefore = (await api(server, 'GET', '/api/v1/users', admin)).json.users;
      for (const route of GUARDED) {
        const path = samplePath(route.path);
        const body = route.method === 'POST' ? { name: 'eve', role: 'admin' } : undefined;
        const asObserver = await api(server, route.method, path, observer, body);
        if (route.permission === 'read') expect(asObserver.status, route.name).not.toBe(403);
        else {
          expect(asObserver.status, `${route.name} as observer`).toBe(403);
          expect(asObserver.json.error.code).toBe('FORBIDDEN');
        }
        if (route.permission === 'admin') {
          expect(
            (await api(server, route.method, path, maintainer, body)).status,
            `${route.name} as maintainer`,
          ).toBe(403);
        }
      }
      expect((await api(server, 'GET', '/api/v1/users', admin)).json.users).toEqual(usersBefore);
      const feed = (await api(server, 'GET', '/api/v1/activity?limit=1000', observer)).json.events as {
        actor: string;
        action: string;
        kind: string;
      }[];
      expect(
        feed.filter((e) => e.action === 'users.create' && e.actor === 'admin' && e.kind === 'api'),
      ).toHaveLength(2);
      expect(
        feed.some((e) => e.actor === 'olga' && e.action === 'users.create' && e.kind === 'api-refused'),
      ).toBe(true);
      expect(
        feed.some((e) => e.actor === 'max' && e.action === 'tokens.revoke' && e.kind === 'api-refused'),
      ).toBe(true);
    });

    it('opens an escrowed device secret for an admin who states why, and records the read', async () => {
      const mac = devices[0]!;
      const store = await openSameStorage(dirs.dataDir);
      try {
        const vault = createSecretVault({
          secrets: store,
          audit: store,
          keyProvider: await createLocalKeyProvider({ path: dirs.kekFile }),
        });
        await vault.put(mac.udid, 'filevault-prk', 'FV-PRK-7Q2M-XK4D-9PLW-RT6H');
      } finally {
        await store.close();
      }
      const path = `/api/v1/enrollments/${mac.udid}/secrets/filevault-prk`;
      expect((await api(server, 'GET', path, observer)).status).toBe(403);
      expect((await api(server, 'GET', path, maintainer)).status).toBe(403);
      expect((await api(server, 'GET', path, admin)).status).toBe(400);
      const res = await server.fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${admin}`, 'x-mdmkit-reason': 'user locked out, ticket 4711' },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ value: 'FV-PRK-7Q2M-XK4D-9PLW-RT6H', kind: 'filevault-prk' });
      const feed = (await api(server, 'GET', `/api/v1/activity?owner=${mac.udid}`, observer)).json.events;
      expect(feed).toEqual([
        expect.objectContaining({ actor: 'olga', action: 'secrets.read', kind: 'api-refused' }),
        expect.objectContaining({ actor: 'max', action: 'secrets.read', kind: 'api-refused' }),
        expect.objectContaining({
          actor: 'admin',
          action: 'secret.read',
          kind: 'filevault-prk',
          reason: 'user locked out, ticket 4711',
        }),
      ]);
    });

    it('revokes a token at once', async () => {
      const extra = await api(server, 'POST', '/api/v1/users/olga/tokens', admin);
      expect(extra.status).toBe(201);
      expect((await api(server, 'GET', '/api/v1/me', extra.json.token)).status).toBe(200);
      expect((await api(server, 'DELETE', `/api/v1/tokens/${extra.json.tokenId}`, admin)).status).toBe(204);
      expect((await api(server, 'GET', '/api/v1/me', extra.json.token)).status).toBe(401);
      expect((await api(server, 'GET', '/api/v1/me', observer)).status).toBe(200);
    });

    it('finishes a request in flight on SIGTERM, then exits 0', async () => {
      port = Number(new URL(server.url).port);
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        rejectUnauthorized: false,
      });
      await new Promise((r) => socket.once('secureConnect', r));
      const closed = new Promise((r) => socket.once('close', r));
      const body = JSON.stringify({ name: 'late', role: 'observer' });
      socket.write(
        `POST /api/v1/users HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${admin}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
      );
      let answer = '';
      socket.on('data', (b: Buffer) => (answer += b.toString()));
      await new Promise((r) => setTimeout(r, 200));
      const exit = server.stop();
      await new Promise((r) => setTimeout(r, 300));
      socket.write(body.slice(5));
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 201 /);
      expect(await exit).toBe(0);
    });

    it('restarts with the same CA, tokens, users and enrollments', async () => {
      // Devices keep the URLs of their profile, so the server comes back on the same port.
      server = await startServer([...args(), '--listen', `127.0.0.1:${port}`]);
      expect(server.printedToken).toBeUndefined();
      expect((await api(server, 'GET', '/api/v1/me', admin)).json).toMatchObject({
        user: 'admin',
        role: 'admin',
      });
      expect((await api(server, 'GET', '/api/v1/me', observer)).json).toMatchObject({
        user: 'olga',
        role: 'observer',
      });
      expect((await api(server, 'GET', '/api/v1/certificates', admin)).json.scepCa).toBe(caPem);
      const names = (await api(server, 'GET', '/api/v1/users', admin)).json.users.map(
        (u: { name: string }) => u.name,
      );
      expect(names.sort()).toEqual(['admin', 'late', 'max', 'olga']);
      // Devices enrolled before the restart are still known by their identity certificates.
      for (const d of devices) expect(await d.poll()).toEqual([]);
      const metrics = await api(server, 'GET', '/metrics', admin);
      expect(metrics.text).toContain('mdmkit_http_requests_total{route="mdm.connect",status="200"} 2');
    });
  });
}
