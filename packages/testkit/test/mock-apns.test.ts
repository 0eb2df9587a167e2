import http2, { type ClientHttp2Session } from 'node:http2';
import tls from 'node:tls';
import { type MockApns, startMockApns } from '@mdmkit/testkit/mock-apns';
import { requirePeer } from '@mdmkit/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from './pki';

const TOKEN = 'ab'.repeat(32);
const ok = requirePeer({ name: 'openssl', probe: ['openssl', 'version'] }, 'mock APNs tests');

interface Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
  endStreamOnHeaders: boolean;
  dataFrames: number;
}

function post(
  session: ClientHttp2Session,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, ...headers });
    let answer: Answer | undefined;
    const chunks: Buffer[] = [];
    req.on('response', (h, flags) => {
      answer = {
        status: Number(h[':status']),
        headers: h,
        body: '',
        endStreamOnHeaders: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0,
        dataFrames: 0,
      };
    });
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      if (answer) answer.dataFrames++;
    });
    req.on('close', () => {
      if (!answer) reject(Object.assign(new Error('no answer'), { rstCode: req.rstCode }));
      else resolve({ ...answer, body: Buffer.concat(chunks).toString() });
    });
    req.on('error', () => {});
    req.end(body);
  });
}

describe.skipIf(!ok)('mock APNs', () => {
  let pki: TestPki;
  let mock: MockApns | undefined;
  const sessions: ClientHttp2Session[] = [];

  function connect(target: MockApns, withCert = true): Promise<ClientHttp2Session> {
    const s = http2.connect(target.origin, {
      ca: pki.caPem,
      ...(withCert ? { key: pki.clientKeyPem, cert: pki.clientCertPem } : {}),
    });
    sessions.push(s);
    s.on('error', () => {});
    return new Promise((resolve) => s.once('remoteSettings', () => resolve(s)));
  }

  beforeAll(() => {
    pki = makeTestPki();
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.destroy();
    await mock?.close();
    mock = undefined;
  });
  afterAll(() => {});

  it('answers 200 with apns-id in a HEADERS frame that ends the stream, and records the request', async () => {
    mock = await startMockApns({ key: pki.serverKeyPem, cert: pki.serverCertPem, maxConcurrentStreams: 123 });
    expect(mock.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const s = await connect(mock);
    expect(s.remoteSettings.maxConcurrentStreams).toBe(123);
    const a = await post(s, `/3/device/${TOKEN}`, '{"mdm":"magic"}', {
      'apns-push-type': 'mdm',
      'apns-topic': pki.topic,
      'apns-id': '0A0B0C0D-0000-0000-0000-000000000001',
    });
    expect(a.status).toBe(200);
    expect(a.headers['apns-id']).toBe('0A0B0C0D-0000-0000-0000-000000000001');
    expect(a.endStreamOnHeaders).toBe(true);
    expect(a.dataFrames).toBe(0);
    expect(mock.requests).toHaveLength(1);
    const r = mock.requests[0]!;
    expect(r.token).toBe(TOKEN);
    expect(r.body).toBe('{"mdm":"magic"}');
    expect(r.clientTopic).toBe(pki.topic);
    expect(r.headers['apns-push-type']).toBe('mdm');
    expect(mock.answeredFor(TOKEN)).toHaveLength(1);
    expect(mock.stats.byStatus[200]).toBe(1);
  });

  it('wakes a registered device after a 200, and not after an error or once unregistered', async () => {
    mock = await startMockApns({ key: pki.serverKeyPem, cert: pki.serverCertPem });
    const woken: string[] = [];
    const unregister = mock.registerDevice(TOKEN.toUpperCase(), (r) => woken.push(r.body));
    const s = await connect(mock);
    expect((await post(s, `/3/device/${TOKEN}`, '{"mdm":"one"}')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect(woken).toEqual(['{"mdm":"one"}']);
    mock.configure({ respond: () => ({ reason: 'TooManyRequests' }) });
    expect((await post(s, `/3/device/${TOKEN}`, '{"mdm":"two"}')).status).toBe(429);
    mock.configure({ respond: undefined });
    unregister();
    expect((await post(s, `/3/device/${TOKEN}`, '{"mdm":"three"}')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect(woken).toEqual(['{"mdm":"one"}']);
  });

  it('does not require apns-topic or apns-push-type and generates an apns-id', async () => {
    mock = await startMockApns({ key: pki.serverKeyPem, cert: pki.serverCertPem });
    const s = await connect(mock);
    const a = await post(s, `/3/device/${TOKEN}`, '{"mdm":"m"}');
    expect(a.status).toBe(200);
    expect(a.headers['apns-id']).toMatch(/^[0-9A-F-]{36}$/);
  });

  it('answers realistic errors', async () => {
    mock = await startMockApns({
      key: pki.serverKeyPem,
      cert: pki.serverCertPem,
      unregistered: new Map([[TOKEN, new Date(1_700_000_000_000)]]),
    });
    const s = await connect(mock);
    const gone = await post(s, `/3/device/${TOKEN}`, '{"mdm":"m"}');
    expect(gone.status).toBe(410);
    expect(JSON.parse(gone.body)).toEqual({ reason: 'Unregistered', timestamp: 1_700_000_000_000 });
    const bad = await post(s, '/3/device/abcd', '{"mdm":"m"}');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ reason: 'BadDeviceToken' });
    expect((await post(s, `/3/device/${'cd'.repeat(32)}`, '')).body).toContain('PayloadEmpty');
    expect((await post(s, `/3/device/${'cd'.repeat(32)}`, 'x'.repeat(5000))).status).toBe(413);
    const topic = await post(s, `/3/device/${'cd'.repeat(32)}`, '{}', {
      'apns-topic': 'com.apple.mgmt.other',
    });
    expect(JSON.parse(topic.body).reason).toBe('TopicDisallowed');
    expect((await post(s, '/2/other', '{}')).status).toBe(404);
  });

  it('requires a client certificate unless told not to', async () => {
    mock = await startMockApns({ key: pki.serverKeyPem, cert: pki.serverCertPem });
    const s = await connect(mock, false);
    const a = await post(s, `/3/device/${TOKEN}`, '{"mdm":"m"}');
    expect(a.status).toBe(403);
    expect(JSON.parse(a.body).reason).toBe('MissingProviderToken');
    await mock.close();
    mock = await startMockApns({ key: pki.serverKeyPem, cert: pki.serverCertPem, requireClientCert: false });
    const s2 = await connect(mock, false);
    expect((await post(s2, `/3/device/${TOKEN}`, '{"mdm":"m"}')).status).toBe(200);
  });

  it('injects errors at a configured rate, reproducibly', async () => {
    mock = await startMockApns({ key: pki.serverKeyPem, cert: pki.serverCertPem, errorRate: 0.5, seed: 7 });
    const s = await connect(mock);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => post(s, `/3/device/${TOKEN}`, '{"mdm":"m"}')),
    );
    const failed = answers.filter((a) => a.status !== 200);
    expect(failed.length).toBeGreaterThan(5);
    expect(failed.length).toBeLessThan(35);
    for (const f of failed) expect([429, 500, 503]).toContain(f.status);
  });

  it('sends GOAWAY, answers processed streams and refuses the later ones', async () => {
    mock = await startMockApns({
      key: pki.serverKeyPem,
      cert: pki.serverCertPem,
      latencyMs: 30,
      goawayAfter: 3,
    });
    const s = await connect(mock);
    let goaway: { code: number; last: number; data: string } | undefined;
    s.on('goaway', (code, last, data) => {
      goaway ??= { code, last, data: data?.toString() ?? '' };
    });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => post(s, `/3/device/${TOKEN}`, '{"mdm":"m"}')),
    );
    expect(goaway?.last).toBe(5); // third client stream: ids 1, 3, 5
    expect(JSON.parse(goaway!.data)).toEqual({ reason: 'Shutdown' });
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(mock.stats.answered).toBe(3);
    expect(mock.stats.refused).toBe(3);
  });

  it('drops the connection after a number of requests', async () => {
    mock = await startMockApns({
      key: pki.serverKeyPem,
      cert: pki.serverCertPem,
      dropAfter: 2,
      latencyMs: 20,
    });
    const s = await connect(mock);
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => post(s, `/3/device/${TOKEN}`, '{"mdm":"m"}')),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(mock.stats.answered).toBe(0);
    expect(mock.stats.dropped).toBeGreaterThanOrEqual(1);
  });

  it('serves HTTP/2 with prior knowledge to a TLS client that negotiated no ALPN', async () => {
    mock = await startMockApns({ key: pki.serverKeyPem, cert: pki.serverCertPem });
    const port = mock.port;
    const s = http2.connect(mock.origin, {
      createConnection: () =>
        tls.connect({
          host: '127.0.0.1',
          port,
          ca: pki.caPem,
          key: pki.clientKeyPem,
          cert: pki.clientCertPem,
          ALPNProtocols: [],
        }),
    });
    sessions.push(s);
    s.on('error', () => {});
    const a = await post(s, `/3/device/${TOKEN}`, '{"mdm":"m"}');
    expect(a.status).toBe(200);
    expect(mock.requests[0]?.clientTopic).toBe(pki.topic);
  });

  it('survives a client that sends garbage instead of HTTP/2', async () => {
    mock = await startMockApns({ key: pki.serverKeyPem, cert: pki.serverCertPem });
    const port = mock.port;
    await new Promise<void>((resolve) => {
      const sock = tls.connect({ host: '127.0.0.1', port, ca: pki.caPem, ALPNProtocols: ['http/1.1'] });
      sock.on('error', () => resolve());
      sock.on('close', () => resolve());
      sock.on('secureConnect', () => sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      setTimeout(() => {
        sock.destroy();
        resolve();
      }, 500);
    });
    const s = await connect(mock);
    expect((await post(s, `/3/device/${TOKEN}`, '{"mdm":"m"}')).status).toBe(200);
  });
});
