import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { encodeCommand, profileListCommand } from '@mdmkit/commands';
import { createRouter, type RunningHttpServer, serve } from '@mdmkit/http';
import { MemoryStorage } from '@mdmkit/storage';
import { createMockApnsCertificates } from '@mdmkit/testkit/mock-apns';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNanoMdmApi, type NanoMdmApiResult } from '../src/index';
import { type Harness, startHarness } from './harness';

const API_KEY = 'nanomdm-api-key-for-tests-0123';
const run = promisify(execFile);

describe('NanoMDM-compatible API', () => {
  let h: Harness;
  let api: RunningHttpServer;
  let base: string;
  let mac: VirtualDevice;
  const storage = new MemoryStorage();
  const dir = mkdtempSync(join(tmpdir(), 'mdmkit-nanomdm-'));
  const migrated: string[] = [];

  beforeAll(async () => {
    h = await startHarness(storage);
    const router = createRouter();
    createNanoMdmApi({
      mdm: h.mdm,
      storage,
      keyProvider: h.keyProvider,
      apiKey: API_KEY,
      migration: async (req) => {
        migrated.push(Buffer.from(req.body).toString());
        return { status: 200 };
      },
    }).mount(router);
    api = await serve(router.handle, { port: 0 });
    base = api.url.replace(/\/$/, '');
    mac = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch, platform: 'macOS' });
    h.apns.registerDevice(mac.pushToken, () => mac.receivePush());
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a curl script written for NanoMDM: enqueue, push, and the same JSON answers', async () => {
    const first = profileListCommand();
    const second = profileListCommand();
    writeFileSync(join(dir, 'first.plist'), encodeCommand(first));
    writeFileSync(join(dir, 'second.plist'), encodeCommand(second));
    const script = fileURLToPath(new URL('./scripts/nanomdm-enqueue-push.sh', import.meta.url));
    const { stdout } = await run(
      'sh',
      [script, `${mac.udid},NOT-ENROLLED`, join(dir, 'first.plist'), join(dir, 'second.plist')],
      { env: { ...process.env, BASE_URL: base, API_KEY } },
    );
    const sections = stdout
      .split(/^== .*$/m)
      .slice(1)
      .map((s) => s.trim().split('\n'));
    const answer = (i: number) => ({
      json: JSON.parse(sections[i]![0]!) as NanoMdmApiResult,
      status: Number(sections[i]![1]),
    });

    const enqueued = answer(0);
    expect(enqueued.status).toBe(200);
    expect(enqueued.json).toEqual({
      no_push: true,
      command_uuid: first.CommandUUID,
      request_type: 'ProfileList',
    });

    // One enrolled id pushed, one unknown: 207 with per-id results, as NanoMDM answers.
    const pushed = answer(1);
    expect(pushed.status).toBe(207);
    expect(Object.keys(pushed.json.status ?? {}).sort()).toEqual([mac.udid, 'NOT-ENROLLED'].sort());
    expect(pushed.json.status?.[mac.udid]?.push_result).toMatch(/^[0-9A-Fa-f-]{36}$/);
    expect(pushed.json.status?.['NOT-ENROLLED']?.push_error).toBeTruthy();

    const both = answer(2);
    expect(both.status).toBe(207);
    expect(both.json.command_uuid).toBe(second.CommandUUID);
    expect(both.json.request_type).toBe('ProfileList');
    expect(both.json.no_push).toBeUndefined();
    expect(both.json.status?.[mac.udid]?.push_result).toBeTruthy();

    expect(sections[3]).toEqual(['401']);

    // The pushed device fetched and answered both commands.
    while (!mac.handled.some((c) => c.commandUuid === second.CommandUUID)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await mac.idle();
    expect((await storage.getResults(first.CommandUUID)).map((r) => r.status)).toEqual(['Acknowledged']);
  });

  const basic = (user: string, password: string) => ({
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
  });

  it('refuses every route without the nanomdm user and the API key', async () => {
    const routes: [string, string][] = [
      ['PUT', '/v1/enqueue/A'],
      ['GET', '/v1/push/A'],
      ['PUT', '/v1/pushcert'],
      ['PUT', '/migration'],
    ];
    for (const [method, path] of routes) {
      for (const headers of [
        {},
        basic('nanomdm', 'wrong'),
        basic('admin', API_KEY),
        { authorization: `Bearer ${API_KEY}` },
      ]) {
        const res = await fetch(`${base}${path}`, {
          method,
          headers,
          body: method === 'PUT' ? 'x' : undefined,
        });
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
      }
    }
    expect(migrated).toEqual([]);
    const ok = await fetch(`${base}/migration`, {
      method: 'PUT',
      headers: basic('nanomdm', API_KEY),
      body: 'checkin',
    });
    expect(ok.status).toBe(200);
    expect(migrated).toEqual(['checkin']);
  });

  it('takes POST as NanoMDM does (its routes answer any method): curl -d to enqueue, POST to push', async () => {
    const cmd = profileListCommand();
    const enqueued = await fetch(`${base}/v1/enqueue/${mac.udid}?nopush=1`, {
      method: 'POST',
      headers: basic('nanomdm', API_KEY),
      body: encodeCommand(cmd),
    });
    expect(enqueued.status).toBe(200);
    expect(((await enqueued.json()) as NanoMdmApiResult).command_uuid).toBe(cmd.CommandUUID);
    const pushed = await fetch(`${base}/v1/push/${mac.udid}`, {
      method: 'POST',
      headers: basic('nanomdm', API_KEY),
    });
    expect(pushed.status).toBe(200);
    expect(((await pushed.json()) as NanoMdmApiResult).status?.[mac.udid]?.push_result).toBeTruthy();
    for (const [method, path] of [
      ['POST', '/v1/enqueue/A'],
      ['POST', '/v1/push/A'],
    ] as const) {
      const res = await fetch(`${base}${path}`, { method, body: 'x' });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    while (!mac.handled.some((c) => c.commandUuid === cmd.CommandUUID)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await mac.idle();
  });

  it('stores a certificate and key concatenated without a newline between them (cat cert key)', async () => {
    const pki = await createMockApnsCertificates();
    const cert = await pki.issuePushCertificate({ rsa: true });
    const res = await fetch(`${base}/v1/pushcert`, {
      method: 'POST',
      headers: basic('nanomdm', API_KEY),
      body: `${cert.certPem.trim()}${cert.keyPem.trim()}`,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { topic: string }).topic).toBe(cert.topic);
  });

  it('refuses a cross-site browser request carrying cached basic credentials (CSRF)', async () => {
    const cmd = profileListCommand();
    const res = await fetch(`${base}/v1/enqueue/${mac.udid}?nopush=1`, {
      method: 'POST',
      headers: {
        ...basic('nanomdm', API_KEY),
        'content-type': 'text/plain',
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
      },
      body: encodeCommand(cmd),
    });
    expect(res.status).toBe(403);
    expect((await storage.listQueue(mac.udid)).map((e) => e.uuid)).not.toContain(cmd.CommandUUID);
    const push = await fetch(`${base}/v1/push/${mac.udid}`, {
      headers: { ...basic('nanomdm', API_KEY), origin: 'https://evil.example' },
    });
    expect(push.status).toBe(403);
  });

  it('answers a body that is not a command with a command_error', async () => {
    const res = await fetch(`${base}/v1/enqueue/${mac.udid}`, {
      method: 'PUT',
      headers: basic('nanomdm', API_KEY),
      body: 'not a plist',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as NanoMdmApiResult).command_error).toBeTruthy();
  });

  it('stores a PEM certificate and key uploaded to /v1/pushcert and answers its topic', async () => {
    const pki = await createMockApnsCertificates();
    const cert = await pki.issuePushCertificate({ rsa: true });
    const res = await fetch(`${base}/v1/pushcert`, {
      method: 'PUT',
      headers: basic('nanomdm', API_KEY),
      body: `${cert.certPem}\n${cert.keyPem}`,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { topic: string; not_after: string };
    expect(body.topic).toBe(cert.topic);
    expect(Number.isNaN(Date.parse(body.not_after))).toBe(false);
    expect((await storage.getPushCert(cert.topic))?.certificatePem).toContain('BEGIN CERTIFICATE');
    const bad = await fetch(`${base}/v1/pushcert`, {
      method: 'PUT',
      headers: basic('nanomdm', API_KEY),
      body: cert.certPem,
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBeTruthy();
  });
});
