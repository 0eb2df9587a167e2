import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, freshDirs, type ServerProcess, startServer } from './helpers';

describe('request ids, logs, /health and /metrics leak nothing', () => {
  let server: ServerProcess;
  let admin: string;
  const chosen = 'abcdefghijklmnopqrstuvwxyz0123456789ABCD';

  beforeAll(async () => {
    const { dataDir, kekFile } = freshDirs();
    server = await startServer(['--data-dir', dataDir, '--kek-file', kekFile]);
    admin = server.printedToken!;
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('echoes a well-formed X-Request-Id, replaces a hostile one, and logs the id with the request', async () => {
    const given = await server.fetch(`${server.url}/health`, { headers: { 'x-request-id': 'req-42.a:b' } });
    expect(given.headers.get('x-request-id')).toBe('req-42.a:b');
    const hostile = await server.fetch(`${server.url}/health`, {
      headers: { 'x-request-id': `x"}{"level":"error${'y'.repeat(80)}` },
    });
    const replaced = hostile.headers.get('x-request-id')!;
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    const none = await server.fetch(`${server.url}/health`);
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(none.headers.get('x-request-id')).not.toBe(replaced);
    await new Promise((r) => setTimeout(r, 100));
    const lines = server
      .stderr()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.requestId === 'req-42.a:b' && l.path === '/health')).toBe(true);
    expect(lines.some((l) => l.requestId === replaced)).toBe(true);
  });

  it('answers /health with its status only, and /metrics only to a token holder', async () => {
    const health = await api(server, 'GET', '/health', undefined);
    expect(health.json).toEqual({ status: 'ok', storage: 'ok' });
    expect((await api(server, 'GET', '/metrics', undefined)).status).toBe(401);
    expect((await api(server, 'GET', '/metrics', 'mdmk_wrong')).status).toBe(401);
  });

  it('keeps tokens out of logs and metrics, whether they were right, wrong or sent as Basic', async () => {
    const wrong = `mdmk_${chosen}`;
    await api(server, 'GET', '/api/v1/me', admin);
    await api(server, 'GET', '/api/v1/me', wrong);
    await server.fetch(`${server.url}/api/v1/me?token=${chosen}`);
    await server.fetch(`${server.url}/v1/push/x`, {
      headers: { authorization: `Basic ${Buffer.from(`nanomdm:${wrong}`).toString('base64')}` },
    });
    const created = await api(server, 'POST', '/api/v1/users', admin, { name: 'olive', role: 'observer' });
    expect(created.status).toBe(201);
    const metrics = await api(server, 'GET', '/metrics', admin);
    expect(metrics.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    for (const text of [server.stderr(), metrics.text]) {
      expect(text).not.toContain(admin);
      expect(text).not.toContain(chosen);
      expect(text).not.toContain(created.json.token);
    }
  });
});
