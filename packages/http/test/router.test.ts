import { describe, expect, it } from 'vitest';
import { createRouter, type HttpRequest, type HttpResponse, HttpError } from '../src/index';

function req(method: string, path: string): HttpRequest {
  return {
    method,
    path,
    rawQuery: '',
    query: new URLSearchParams(),
    headers: { get: () => undefined },
    body: new Uint8Array(0),
    remoteAddress: undefined,
    clientCertificate: undefined,
  };
}

const text = (body: string): HttpResponse => ({ status: 200, body });

describe('router', () => {
  const router = createRouter()
    .put('/mdm/checkin', () => text('checkin'))
    .get('/devices/:udid', (_r, p) => text(`device ${p.udid}`))
    .get('/devices/:udid/commands/:uuid', (_r, p) => text(`${p.udid} ${p.uuid}`))
    .get('/devices/export', () => text('export'))
    .add('*', '/files/*', (r, p) => text(`${r.method} ${p['*']}`));
  const call = async (m: string, p: string) => router.handle(req(m, p));

  it('exact paths, parameters (percent-decoded) and wildcards', async () => {
    expect((await call('PUT', '/mdm/checkin')).body).toBe('checkin');
    expect((await call('PUT', '/mdm/checkin/')).body).toBe('checkin');
    expect((await call('GET', '/devices/ABC%20D')).body).toBe('device ABC D');
    expect((await call('GET', '/devices/a/commands/b')).body).toBe('a b');
    expect((await call('GET', '/devices/export')).body).toBe('export');
    expect((await call('DELETE', '/files/a/b/c')).body).toBe('DELETE a/b/c');
  });

  it('404 for unknown paths, 405 with Allow for a wrong method, HEAD falls back to GET', async () => {
    expect((await call('GET', '/nope')).status).toBe(404);
    expect((await call('GET', '/devices')).status).toBe(404);
    expect((await call('GET', '/devices/a/b')).status).toBe(404);
    const wrong = await call('GET', '/mdm/checkin');
    expect(wrong.status).toBe(405);
    expect(wrong.headers?.allow).toBe('PUT');
    const dyn = await call('POST', '/devices/x');
    expect(dyn.status).toBe(405);
    expect(dyn.headers?.allow).toBe('GET, HEAD');
    expect((await call('HEAD', '/devices/x')).body).toBe('device x');
  });

  it('a parameter that is not valid percent-encoding is 400', async () => {
    expect((await call('GET', '/devices/%E0%A4%A')).status).toBe(400);
  });

  it('bad or repeated routes are INVALID_OPTIONS', () => {
    const r = createRouter().get('/a', () => text('a'));
    expect(() => r.get('/a', () => text('b'))).toThrow(HttpError);
    expect(() => r.get('/a/', () => text('b'))).toThrow(HttpError);
    expect(() => r.get('no-slash', () => text('b'))).toThrow(HttpError);
    expect(() => r.get('/x/*/y', () => text('b'))).toThrow(HttpError);
    expect(() => r.get('/x/:1bad', () => text('b'))).toThrow(HttpError);
    expect(() => r.add('GE T', '/z', () => text('b'))).toThrow(HttpError);
  });
});
