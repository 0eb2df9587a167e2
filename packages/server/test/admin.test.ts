import { compileErrors, validate } from '@readme/openapi-parser';
import { encodeCommand, profileListCommand } from '@mdmkit/commands';
import type { HttpRequest } from '@mdmkit/http';
import { MemoryStorage } from '@mdmkit/storage';
import { createMockApnsCertificates } from '@mdmkit/testkit/mock-apns';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_ROUTES,
  type AdminApi,
  type AdminPermission,
  adminOpenApi,
  apiKeyAuthorizer,
  createAdminApi,
} from '../src/index';
import { type Harness, startHarness } from './harness';

const API_KEY = 'admin-api-key-for-tests-0123456789';

function request(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown; query?: string } = {},
): HttpRequest {
  const headers = new Map(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const body =
    options.body === undefined
      ? new Uint8Array()
      : new TextEncoder().encode(
          typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
        );
  return {
    method,
    path,
    rawQuery: options.query ?? '',
    query: new URLSearchParams(options.query ?? ''),
    headers: { get: (n) => headers.get(n.toLowerCase()) },
    body,
    remoteAddress: '127.0.0.1',
    clientCertificate: undefined,
  };
}

/** A concrete path for a route pattern. */
const concrete = (path: string) => `/api/v1${path.replace(':id', 'UDID-X').replace(':uuid', 'CMD-X')}`;

async function call(api: AdminApi, req: HttpRequest) {
  const res = await api.handler(req);
  const text = typeof res.body === 'string' ? res.body : Buffer.from(res.body ?? new Uint8Array()).toString();
  return { status: res.status, headers: res.headers ?? {}, json: text ? JSON.parse(text) : undefined };
}

describe('admin API authorization', () => {
  const storage = new MemoryStorage();
  const mdm = {
    enqueue: async () => {
      throw new Error('must not be reached without authorization');
    },
    push: async () => {
      throw new Error('must not be reached without authorization');
    },
  };
  const api = createAdminApi({ mdm, storage, keyProvider: undefined as never, apiKey: API_KEY });

  for (const route of ADMIN_ROUTES) {
    it(`${route.method} ${route.path} refuses a missing or wrong credential`, async () => {
      const body = route.body ? { enrollmentIds: ['UDID-X'] } : undefined;
      const attempts: Record<string, string>[] = [
        {},
        { authorization: 'Bearer wrong-key-wrong-key-wrong' },
        { authorization: `Bearer ${API_KEY}x` },
        { authorization: `Bearer ${API_KEY.slice(0, -1)}` },
        { 'x-api-key': 'nope' },
        { authorization: `Basic ${Buffer.from('nanomdm:wrong').toString('base64')}` },
        { authorization: `Token ${API_KEY}` },
        { authorization: 'Bearer ' },
      ];
      for (const headers of attempts) {
        const r = await call(api, request(route.method, concrete(route.path), { headers, body }));
        expect(r.status, JSON.stringify(headers)).toBe(401);
        expect(r.json.error.code).toBe('UNAUTHORIZED');
        expect(r.headers['www-authenticate']).toBeDefined();
      }
      // The right key passes the gate (whatever the operation then answers).
      const ok = await call(
        api,
        request(route.method, concrete(route.path), {
          headers: { authorization: `Bearer ${API_KEY}` },
          body,
        }),
      );
      expect(ok.status).not.toBe(401);
    });
  }

  // A browser re-sends cached basic credentials by itself, so a page on another site could make
  // an admin's browser call the API (a form or no-cors fetch with a text/plain body needs no preflight).
  for (const route of ADMIN_ROUTES) {
    it(`${route.method} ${route.path} refuses a cross-site browser request even with a valid credential`, async () => {
      const body = route.body ? { enrollmentIds: ['UDID-X'] } : undefined;
      const basic = `Basic ${Buffer.from(`nanomdm:${API_KEY}`).toString('base64')}`;
      const crossSite: Record<string, string>[] = [
        { authorization: basic, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
        { authorization: basic, 'sec-fetch-site': 'same-site' },
        { authorization: basic, origin: 'https://evil.example' },
        { authorization: basic, origin: 'null' },
      ];
      for (const headers of crossSite) {
        const r = await call(api, request(route.method, concrete(route.path), { headers, body }));
        expect(r.status, JSON.stringify(headers)).toBe(403);
        expect(r.json.error.code).toBe('CROSS_SITE');
      }
      // A same-origin page and a script (no browser headers) pass the gate.
      const allowed: Record<string, string>[] = [
        { authorization: basic, origin: 'https://mdm.test', 'sec-fetch-site': 'same-origin' },
        { authorization: basic },
      ];
      for (const headers of allowed) {
        const r = await call(api, request(route.method, concrete(route.path), { headers, body }));
        expect(r.status, JSON.stringify(headers)).not.toBe(403);
      }
    });
  }

  it('refuses short API keys at start-up', () => {
    expect(() => apiKeyAuthorizer('short')).toThrow(/at least 16/);
  });

  it('lets a pluggable authorizer map roles onto route permissions', async () => {
    const roles: Record<string, AdminPermission[]> = {
      'observer-token-0000': ['read'],
      'maintainer-token-00': ['read', 'write'],
    };
    const seen: string[] = [];
    const scoped = createAdminApi({
      mdm,
      storage,
      keyProvider: undefined as never,
      authorize: (req, route) => {
        seen.push(route.id);
        const token = req.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
        const granted = roles[token];
        if (!granted) return { allow: false, status: 401, reason: 'unknown token' };
        if (!granted.includes(route.permission))
          return { allow: false, status: 403, reason: 'role lacks permission' };
        return { allow: true, principal: { id: token.split('-')[0]! } };
      },
    });
    const observer = { authorization: 'Bearer observer-token-0000' };
    expect((await call(scoped, request('GET', '/api/v1/enrollments', { headers: observer }))).status).toBe(
      200,
    );
    const denied = await call(
      scoped,
      request('POST', '/api/v1/push', { headers: observer, body: { enrollmentIds: ['A'] } }),
    );
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('FORBIDDEN');
    const secrets = await call(
      scoped,
      request('PUT', '/api/v1/push-certificate', {
        headers: { authorization: 'Bearer maintainer-token-00' },
        body: { certificate: 'x', privateKey: 'y' },
      }),
    );
    expect(secrets.status).toBe(403);
    expect(seen).toEqual(['listEnrollments', 'push', 'putPushCertificate']);
  });
});

describe('admin OpenAPI document', () => {
  it('validates as OpenAPI 3.1 and covers every route with its permission', async () => {
    const doc = adminOpenApi({ servers: ['https://mdm.example.com'] });
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    // The validator does refuse a broken document.
    const broken = structuredClone(doc) as { paths: Record<string, unknown> };
    broken.paths['/broken'] = { get: { responses: { '200': { content: 'not an object' } } } };
    expect((await validate(broken as never)).valid).toBe(false);
    const paths = doc.paths as Record<
      string,
      Record<string, { operationId: string; 'x-mdmkit-permission': string }>
    >;
    const documented = Object.entries(paths).flatMap(([p, ops]) =>
      Object.entries(ops).map(
        ([m, op]) => `${m.toUpperCase()} ${p} ${op.operationId} ${op['x-mdmkit-permission']}`,
      ),
    );
    const expected = ADMIN_ROUTES.map(
      (r) => `${r.method} /api/v1${r.path.replace(/:(\w+)/g, '{$1}')} ${r.id} ${r.permission}`,
    );
    expect(documented.sort()).toEqual(expected.sort());
    // Request bodies come from the same zod schemas that check them.
    const schemas = (doc.components as { schemas: Record<string, { properties?: Record<string, unknown> }> })
      .schemas;
    expect(Object.keys(schemas.EnqueueRequest?.properties ?? {})).toEqual(
      expect.arrayContaining(['enrollmentIds', 'command', 'plist', 'push']),
    );
  });
});

describe('admin API operations', () => {
  let h: Harness;
  let api: AdminApi;
  let mac: VirtualDevice;
  const auth = { authorization: `Bearer ${API_KEY}` };
  const storage = new MemoryStorage();

  beforeAll(async () => {
    h = await startHarness(storage);
    api = createAdminApi({ mdm: h.mdm, storage, keyProvider: h.keyProvider, apiKey: API_KEY });
    mac = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch, platform: 'macOS' });
    h.apns.registerDevice(mac.pushToken, () => mac.receivePush());
  });
  afterAll(async () => {
    await h?.close();
  });

  it('enqueues a typed command to several enrollments, pushes, and serves its results by CommandUUID', async () => {
    const r = await call(
      api,
      request('POST', '/api/v1/commands', {
        headers: auth,
        body: {
          enrollmentIds: [mac.udid, 'UNKNOWN-UDID'],
          command: { requestType: 'DeviceInformation', payload: { Queries: ['SerialNumber'] } },
        },
      }),
    );
    expect(r.status).toBe(201);
    expect(r.json.requestType).toBe('DeviceInformation');
    expect(r.json.push.delivered).toEqual([mac.udid]);
    const uuid = r.json.commandUuid as string;
    while (!mac.handled.some((c) => c.commandUuid === uuid)) await new Promise((res) => setTimeout(res, 10));
    await mac.idle();
    const results = await call(api, request('GET', `/api/v1/commands/${uuid}/results`, { headers: auth }));
    expect(results.status).toBe(200);
    expect(results.json.results).toHaveLength(1);
    expect(results.json.results[0]).toMatchObject({ enrollmentId: mac.udid, status: 'Acknowledged' });
    expect(Buffer.from(results.json.results[0].rawPayload, 'base64').toString()).toContain(uuid);
  });

  it('answers a reused CommandUUID with 409, as its OpenAPI operation documents', async () => {
    const body = {
      enrollmentIds: [mac.udid],
      push: false,
      command: { requestType: 'ProfileList', commandUuid: 'reused-command-uuid-1' },
    };
    const first = await call(api, request('POST', '/api/v1/commands', { headers: auth, body }));
    expect(first.status).toBe(201);
    const again = await call(api, request('POST', '/api/v1/commands', { headers: auth, body }));
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('CONFLICT');
    const op = (api.openapi.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)[
      '/api/v1/commands'
    ]?.post;
    expect(Object.keys(op?.responses ?? {})).toContain(String(again.status));
    // Every operation documents the internal-error answer, and every one with a body its size limit.
    for (const r of ADMIN_ROUTES) {
      const path = `/api/v1${r.path.replace(/:(\w+)/g, '{$1}')}`;
      const responses = Object.keys(
        (api.openapi.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)[path]?.[
          r.method.toLowerCase()
        ]?.responses ?? {},
      );
      expect(responses, r.id).toContain('500');
      if (r.body) expect(responses, r.id).toContain('413');
    }
    await call(api, request('DELETE', `/api/v1/enrollments/${mac.udid}/queue`, { headers: auth }));
  });

  it('enqueues a raw command plist without push, shows it queued, and clears the queue', async () => {
    const cmd = profileListCommand();
    const plist = Buffer.from(encodeCommand(cmd)).toString('utf8');
    const r = await call(
      api,
      request('POST', '/api/v1/commands', {
        headers: auth,
        body: { enrollmentIds: [mac.udid], plist, push: false },
      }),
    );
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ commandUuid: cmd.CommandUUID, requestType: 'ProfileList' });
    expect(r.json.push).toBeUndefined();
    const queue = await call(api, request('GET', `/api/v1/enrollments/${mac.udid}/queue`, { headers: auth }));
    expect(queue.json.items.map((i: { commandUuid: string }) => i.commandUuid)).toEqual([cmd.CommandUUID]);
    const cleared = await call(
      api,
      request('DELETE', `/api/v1/enrollments/${mac.udid}/queue`, { headers: auth }),
    );
    expect(cleared.json).toEqual({ enrollmentId: mac.udid, cleared: 1 });
    const again = await call(
      api,
      request('POST', '/api/v1/commands', {
        headers: auth,
        body: { enrollmentIds: [mac.udid], plist, push: false },
      }),
    );
    expect(again.status).toBe(409);
  });

  it('refuses bad bodies with 400 and a clear message', async () => {
    const bad = [
      { enrollmentIds: [] },
      { enrollmentIds: ['A'], command: { requestType: 'DeviceInformation' }, plist: '<plist/>' },
      { enrollmentIds: ['A'], command: { requestType: 'DeviceInformation', payload: { Queries: 7 } } },
      { enrollmentIds: ['A'], command: { requestType: 'NoSuchCommand' } },
      { enrollmentIds: ['A'], plist: 'not a plist' },
      { enrollmentIds: ['A'], command: { requestType: 'ProfileList' }, extra: true },
    ];
    for (const body of bad) {
      const r = await call(api, request('POST', '/api/v1/commands', { headers: auth, body }));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(typeof r.json.error.message).toBe('string');
    }
    const notJson = await call(api, request('POST', '/api/v1/push', { headers: auth, body: '{nope' }));
    expect(notJson.status).toBe(400);
  });

  it('lists enrollments with filters and paging, and gets one', async () => {
    for (const id of ['PAGE-A', 'PAGE-B', 'PAGE-C']) {
      await storage.tokenUpdate({ id, channel: 'device', topic: h.topic, pushToken: 'ab', pushMagic: 'm' });
    }
    const first = await call(
      api,
      request('GET', '/api/v1/enrollments', { headers: auth, query: 'idPrefix=PAGE-&limit=2&enabled=true' }),
    );
    expect(first.json.items.map((e: { id: string }) => e.id)).toEqual(['PAGE-A', 'PAGE-B']);
    const second = await call(
      api,
      request('GET', '/api/v1/enrollments', {
        headers: auth,
        query: `idPrefix=PAGE-&limit=2&after=${encodeURIComponent(first.json.next)}`,
      }),
    );
    expect(second.json.items.map((e: { id: string }) => e.id)).toEqual(['PAGE-C']);
    const one = await call(api, request('GET', `/api/v1/enrollments/${mac.udid}`, { headers: auth }));
    expect(one.json).toMatchObject({ id: mac.udid, channel: 'device', enabled: true, hasPushToken: true });
    expect(JSON.stringify(one.json)).not.toMatch(/unlock|pushMagic/i);
    expect((await call(api, request('GET', '/api/v1/enrollments/NOPE', { headers: auth }))).status).toBe(404);
    const badQuery = await call(
      api,
      request('GET', '/api/v1/enrollments', { headers: auth, query: 'limit=0' }),
    );
    expect(badQuery.status).toBe(400);
  });

  it('pushes enrollments', async () => {
    const r = await call(
      api,
      request('POST', '/api/v1/push', { headers: auth, body: { enrollmentIds: [mac.udid] } }),
    );
    expect(r.status).toBe(200);
    expect(r.json.delivered).toEqual([mac.udid]);
    expect(typeof r.json.apnsIds[mac.udid]).toBe('string');
  });

  it('uploads and reads the push certificate, never answering the key', async () => {
    const pki = await createMockApnsCertificates();
    const cert = await pki.issuePushCertificate({ topic: h.topic });
    const put = await call(
      api,
      request('PUT', '/api/v1/push-certificate', {
        headers: auth,
        body: { certificate: cert.certPem, privateKey: cert.keyPem },
      }),
    );
    expect(put.status).toBe(200);
    expect(put.json.topic).toBe(h.topic);
    const got = await call(api, request('GET', '/api/v1/push-certificate', { headers: auth }));
    expect(got.json.items.map((c: { topic: string }) => c.topic)).toEqual([h.topic]);
    expect(JSON.stringify(got.json)).not.toContain('PRIVATE KEY');
    const mismatch = await call(
      api,
      request('PUT', '/api/v1/push-certificate', {
        headers: auth,
        body: { certificate: cert.certPem, privateKey: (await pki.issuePushCertificate()).keyPem },
      }),
    );
    expect(mismatch.status).toBe(400);
  });

  it('serves its OpenAPI document', async () => {
    const r = await call(api, request('GET', '/api/v1/openapi.json', { headers: auth }));
    expect(r.json.openapi).toBe('3.1.0');
  });
});
