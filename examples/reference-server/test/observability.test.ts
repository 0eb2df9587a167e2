import { describe, expect, it } from 'vitest';
import { api, serverForSuite } from './helpers';

describe('request ids, logs, /health and /metrics leak nothing', () => {
  const suite = serverForSuite();
  const chosen = 'abcdefghijklmnopqrstuvwxyz0123456789ABCD';

  it('echoes a well-formed X-Request-Id, replaces a hostile one, and logs the id with the request', async () => {
    const given = await suite.server.fetch(`${suite.server.url}/health`, {
      headers: { 'x-request-id': 'req-42.a:b' },
    });
    expect(given.headers.get('x-request-id')).toBe('req-42.a:b');
    const hostile = await suite.server.fetch(`${suite.server.url}/health`, {
      headers: { 'x-request-id': `x"}{"level":"error${'y'.repeat(80)}` },
    });
    const replaced = hostile.headers.get('x-request-id')!;
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    const none = await suite.server.fetch(`${suite.server.url}/health`);
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(none.headers.get('x-request-id')).not.toBe(replaced);
    await new Promise((r) => setTimeout(r, 100));
    const lines = suite.server
      .stderr()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.requestId === 'req-42.a:b' && l.path === '/health')).toBe(true);
    expect(lines.some((l) => l.requestId === replaced)).toBe(true);
  });

  it('answers /health with its status only, and /metrics only to a token holder', async () => {
    const health = await api(suite.server, 'GET', '/health', undefined);
    expect(health.json).toEqual({ status: 'ok', storage: 'ok' });
    expect((await api(suite.server, 'GET', '/metrics', undefined)).status).toBe(401);
    expect((await api(suite.server, 'GET', '/metrics', 'mdmk_wrong')).status).toBe(401);
  });

  it('keeps tokens out of logs and metrics, whether they were right, wrong or sent as Basic', async () => {
    const wrong = `mdmk_${chosen}`;
    await api(suite.server, 'GET', '/api/v1/me', suite.admin);
    await api(suite.server, 'GET', '/api/v1/me', wrong);
    await suite.server.fetch(`${suite.server.url}/api/v1/me?token=${chosen}`);
    await suite.server.fetch(`${suite.server.url}/v1/push/x`, {
      headers: { authorization: `Basic ${Buffer.from(`nanomdm:${wrong}`).toString('base64')}` },
    });
    const created = await api(suite.server, 'POST', '/api/v1/users', suite.admin, {
      name: 'olive',
      role: 'observer',
    });
    expect(created.status).toBe(201);
    const metrics = await api(suite.server, 'GET', '/metrics', suite.admin);
    expect(metrics.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    for (const text of [suite.server.stderr(), metrics.text]) {
      expect(text).not.toContain(suite.admin);
      expect(text).not.toContain(chosen);
      expect(text).not.toContain(created.json.token);
    }
  });
});
