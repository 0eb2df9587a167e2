import { ApnsClient, type ApnsClientOptions, type MdmPush, type PushResult } from '@mdmkit/apns';
import { requirePeer } from '@mdmkit/test-support';
import { type MockApns, type MockApnsOptions, startMockApns } from '@mdmkit/testkit/mock-apns';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from './pki';

const ok = requirePeer({ name: 'openssl', probe: ['openssl', 'version'] }, 'APNs client tests');

function token(i: number): string {
  return i.toString(16).padStart(64, '0');
}

function pushes(n: number, from = 0): MdmPush[] {
  return Array.from({ length: n }, (_, i) => ({ token: token(from + i), pushMagic: `magic-${from + i}` }));
}

async function collect(it: AsyncIterable<PushResult>): Promise<PushResult[]> {
  const out: PushResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe.skipIf(!ok)('ApnsClient against the mock', () => {
  let pki: TestPki;
  let push: { keyPem: string; certPem: string; topic: string };
  let mock: MockApns | undefined;
  let client: ApnsClient | undefined;

  async function setup(
    mockOptions: Partial<MockApnsOptions> = {},
    clientOptions: Partial<ApnsClientOptions> = {},
  ) {
    mock = await startMockApns({ key: pki.serverKeyPem, cert: pki.serverCertPem, ...mockOptions });
    client = new ApnsClient({
      credentials: { certificate: push.certPem, privateKey: push.keyPem },
      origin: mock.origin,
      ca: pki.caPem,
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
      ...clientOptions,
    });
    return { mock, client };
  }

  beforeAll(() => {
    pki = makeTestPki();
    push = pki.issuePush();
  });
  afterAll(() => pki.dispose());
  afterEach(async () => {
    await client?.close();
    await mock?.close();
    client = undefined;
    mock = undefined;
  });

  it('sends POST /3/device/<token> with the MDM headers and body and reports the apns-id', async () => {
    const { mock, client } = await setup();
    const r = await client.push({
      token: token(1),
      pushMagic: 'B5E1-magic',
      id: '11111111-2222-3333-4444-555555555555',
    });
    expect(r).toMatchObject({
      ok: true,
      status: 200,
      apnsId: '11111111-2222-3333-4444-555555555555',
      attempts: 1,
    });
    const req = mock.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/3/device/${token(1)}`);
    expect(req.headers['apns-push-type']).toBe('mdm');
    expect(req.headers['apns-topic']).toBe(push.topic);
    expect(req.headers['apns-priority']).toBe('10');
    expect(req.headers['apns-expiration']).toBeUndefined();
    expect(JSON.parse(req.body)).toEqual({ mdm: 'B5E1-magic' });
    expect(req.clientTopic).toBe(push.topic);
    expect(client.topic).toBe(push.topic);
  });

  it('sends apns-expiration only when configured, and omits headers set to null', async () => {
    const { mock, client } = await setup(
      {},
      { expiration: new Date(2_000_000_000_000), pushType: null, topic: null },
    );
    await client.push({ token: token(1), pushMagic: 'm', priority: 5 });
    const h = mock.requests[0]!.headers;
    expect(h['apns-expiration']).toBe('2000000000');
    expect(h['apns-priority']).toBe('5');
    expect(h['apns-push-type']).toBeUndefined();
    expect(h['apns-topic']).toBeUndefined();
  });

  it('reports 410 Unregistered with its timestamp and never retries terminal answers', async () => {
    const { mock, client } = await setup({
      unregistered: new Map([[token(2), new Date(1_690_000_000_000)]]),
    });
    const gone = await client.push({ token: token(2), pushMagic: 'm' });
    expect(gone).toMatchObject({
      ok: false,
      status: 410,
      reason: 'Unregistered',
      transient: false,
      attempts: 1,
    });
    expect(gone.ok === false && gone.timestamp?.getTime()).toBe(1_690_000_000_000);
    const bad = await client.push({ token: 'abcd', pushMagic: 'm' });
    expect(bad).toMatchObject({
      ok: false,
      status: 400,
      reason: 'BadDeviceToken',
      transient: false,
      attempts: 1,
    });
    expect(mock.stats.received).toBe(2);
  });

  it('retries 429 and 5xx with backoff until success', async () => {
    const seen = new Map<string, number>();
    const { mock, client } = await setup({
      respond: (r) => {
        const n = (seen.get(r.token!) ?? 0) + 1;
        seen.set(r.token!, n);
        if (n === 1) return { reason: 'TooManyRequests' };
        if (n === 2) return { reason: 'InternalServerError' };
        return undefined;
      },
    });
    const r = await client.push({ token: token(3), pushMagic: 'm' });
    expect(r).toMatchObject({ ok: true, attempts: 3 });
    expect(mock.stats.byStatus).toEqual({ 200: 1, 429: 1, 500: 1 });
  });

  it('moves to a new connection after a 503 Shutdown answer', async () => {
    let shut = false;
    const { mock, client } = await setup({
      respond: (r) => {
        if (!shut && r.connectionId === 1) {
          shut = true;
          return { reason: 'Shutdown' };
        }
        return r.connectionId === 1 ? { reason: 'ServiceUnavailable' } : undefined;
      },
    });
    const r = await client.push({ token: token(5), pushMagic: 'm' });
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    expect(mock.answeredFor(token(5)).map((x) => x.connectionId)).toEqual([1, 2]);
  });

  it('moves to a new connection after a 503 Shutdown answer', async () => {
    let shut = false;
    const { mock, client } = await setup({
      respond: (r) => {
        if (!shut && r.connectionId === 1) {
          shut = true;
          return { reason: 'Shutdown' };
        }
        return r.connectionId === 1 ? { reason: 'ServiceUnavailable' } : undefined;
      },
    });
    const r = await client.push({ token: token(5), pushMagic: 'm' });
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    expect(mock.answeredFor(token(5)).map((x) => x.connectionId)).toEqual([1, 2]);
  });

  it('gives up after maxAttempts with the last transient reason', async () => {
    const { mock, client } = await setup(
      { respond: () => ({ reason: 'ServiceUnavailable' }) },
      { retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 } },
    );
    const r = await client.push({ token: token(4), pushMagic: 'm' });
    expect(r).toMatchObject({
      ok: false,
      status: 503,
      reason: 'ServiceUnavailable',
      transient: true,
      attempts: 4,
    });
    expect(mock.stats.received).toBe(4);
  });

  it('pushes in bulk with one result per device, one session while the peer limit suffices', async () => {
    const { mock, client } = await setup({ maxConcurrentStreams: 100 });
    const seen: PushResult[] = [];
    const results = await collect(
      client.pushMany(pushes(1500), { concurrency: 80, onResult: (r) => seen.push(r) }),
    );
    expect(results).toHaveLength(1500);
    expect(seen).toHaveLength(1500);
    expect(new Set(results.map((r) => r.push.token)).size).toBe(1500);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(mock.stats.connections).toBe(1);
    expect(mock.stats.answered).toBe(1500);
  });

  it('opens more sessions only when the peer MAX_CONCURRENT_STREAMS is saturated', async () => {
    const { mock, client } = await setup({ maxConcurrentStreams: 50, latencyMs: 5 }, { maxConnections: 3 });
    const summary = await client.pushAll(pushes(1200), { concurrency: 400 });
    expect(summary).toEqual({ total: 1200, delivered: 1200, failed: 0, reasons: {} });
    expect(mock.stats.connections).toBe(3);
    // the peer's limit held on every connection
    const perConn = new Map<number, number>();
    for (const r of mock.requests) perConn.set(r.connectionId, (perConn.get(r.connectionId) ?? 0) + 1);
    expect([...perConn.values()].reduce((a, b) => a + b, 0)).toBe(1200);
  });

  it('reports terminal and transient failures per device in a bulk run', async () => {
    const { client } = await setup(
      {
        unregistered: new Map([[token(7), new Date(1_700_000_000_000)]]),
        respond: (r) => (r.token === token(9) ? { reason: 'InternalServerError' } : undefined),
      },
      { retry: { maxAttempts: 2, baseDelayMs: 1 } },
    );
    const results = await collect(client.pushMany([...pushes(10), { token: 'zz', pushMagic: 'm' }]));
    const byToken = new Map(results.map((r) => [r.push.token, r]));
    expect(results).toHaveLength(11);
    expect(byToken.get(token(7))).toMatchObject({ ok: false, reason: 'Unregistered', transient: false });
    expect(byToken.get(token(9))).toMatchObject({
      ok: false,
      reason: 'InternalServerError',
      transient: true,
      attempts: 2,
    });
    expect(byToken.get('zz')).toMatchObject({ ok: false, reason: 'InvalidPush', attempts: 0 });
    expect(results.filter((r) => r.ok)).toHaveLength(8);
  });

  it('survives GOAWAY mid-burst: every push delivered exactly once', async () => {
    const { mock, client } = await setup({ goawayAfter: 60, latencyMs: 2, maxConcurrentStreams: 100 });
    const results = await collect(client.pushMany(pushes(600), { concurrency: 100 }));
    expect(results).toHaveLength(600);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(mock.stats.connections).toBeGreaterThan(1);
    expect(mock.stats.refused).toBeGreaterThan(0);
    for (let i = 0; i < 600; i++) expect(mock.answeredFor(token(i))).toHaveLength(1);
  });

  it('survives connections dropped mid-burst: every push gets exactly one result', async () => {
    let seq = 0;
    const { mock, client } = await setup(
      // two connections are cut without a GOAWAY while about 200 requests are in flight on them
      { respond: () => (++seq === 150 || seq === 450 ? { drop: true } : undefined), latencyMs: 3 },
      { retry: { maxAttempts: 3, baseDelayMs: 2, maxDelayMs: 20 } },
    );
    const results = await collect(client.pushMany(pushes(500), { concurrency: 200 }));
    expect(results).toHaveLength(500);
    expect(new Set(results.map((r) => r.push.token)).size).toBe(500);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(mock.stats.dropped).toBeGreaterThan(0);
    expect(results.some((r) => r.attempts > 1)).toBe(true);
    for (let i = 0; i < 500; i++) expect(mock.answeredFor(token(i)).length).toBeGreaterThanOrEqual(1);
  });

  it('times out on a hanging server and reports Timeout after the retries', async () => {
    const { client } = await setup(
      { hang: true },
      { requestTimeoutMs: 200, retry: { maxAttempts: 2, baseDelayMs: 1 } },
    );
    const started = Date.now();
    const results = await collect(client.pushMany(pushes(5)));
    expect(Date.now() - started).toBeLessThan(3000);
    for (const r of results) {
      expect(r).toMatchObject({ ok: false, reason: 'Timeout', status: 0, transient: true, attempts: 2 });
      expect(r.ok === false && r.error?.code).toBe('TIMEOUT');
    }
  });

  it('reports ConnectionFailed when nothing listens', async () => {
    const { mock, client: _ } = await setup();
    const origin = mock.origin;
    await mock.close();
    client = new ApnsClient({
      credentials: { certificate: push.certPem, privateKey: push.keyPem },
      origin,
      ca: pki.caPem,
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    });
    const results = await Promise.all(pushes(3).map((p) => client!.push(p)));
    for (const r of results) expect(r).toMatchObject({ ok: false, reason: 'ConnectionFailed', attempts: 2 });
  });

  it('gives up on a peer that accepts TCP but never completes TLS', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    client = new ApnsClient({
      credentials: { certificate: push.certPem, privateKey: push.keyPem },
      origin: `https://127.0.0.1:${port}`,
      ca: pki.caPem,
      connectTimeoutMs: 200,
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    });
    try {
      const started = Date.now();
      const r = await client.push({ token: token(1), pushMagic: 'm' });
      expect(r).toMatchObject({ ok: false, reason: 'ConnectionFailed', attempts: 2, transient: true });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('re-sends streams above the last stream id of a GOAWAY sent while they are in flight', async () => {
    const { mock, client } = await setup({ latencyMs: 40 });
    const pending = client.pushAll(pushes(50), { concurrency: 50 });
    while (mock.stats.received < 50) await new Promise((r) => setTimeout(r, 2));
    mock.goawayAll({ lastStreamId: 21 }); // streams 1..21 (11 requests) are processed, the rest refused
    const summary = await pending;
    expect(summary).toMatchObject({ total: 50, delivered: 50, failed: 0 });
    expect(mock.stats.refused).toBe(39);
    expect(mock.stats.connections).toBe(2);
    for (let i = 0; i < 50; i++) expect(mock.answeredFor(token(i))).toHaveLength(1);
  });

  it('reads a 200 that carries a body (not ended on its HEADERS) without hanging', async () => {
    const http2 = await import('node:http2');
    const server = http2.createSecureServer({ key: pki.serverKeyPem, cert: pki.serverCertPem });
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'apns-id': 'AAAAAAAA-0000-0000-0000-000000000001' });
      stream.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as import('node:net').AddressInfo).port;
    client = new ApnsClient({
      credentials: { certificate: push.certPem, privateKey: push.keyPem },
      origin: `https://127.0.0.1:${port}`,
      ca: pki.caPem,
      requestTimeoutMs: 2000,
    });
    try {
      const r = await client.push({ token: token(1), pushMagic: 'm' });
      expect(r).toMatchObject({ ok: true, apnsId: 'AAAAAAAA-0000-0000-0000-000000000001', attempts: 1 });
    } finally {
      await client.close();
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses an expired certificate before connecting', async () => {
    mock = await startMockApns({ key: pki.serverKeyPem, cert: pki.serverCertPem });
    const expired = pki.issuePush(undefined, -1);
    expect(
      () =>
        new ApnsClient({
          credentials: { certificate: expired.certPem, privateKey: expired.keyPem },
          origin: mock!.origin,
        }),
    ).toThrow(
      expect.objectContaining({ code: 'CERTIFICATE_EXPIRED', message: expect.stringContaining('expired') }),
    );
    expect(mock.stats.connections).toBe(0);
  });

  it('refuses a key that does not match the certificate, and a certificate without an MDM topic', () => {
    const other = pki.issuePush();
    expect(
      () => new ApnsClient({ credentials: { certificate: push.certPem, privateKey: other.keyPem } }),
    ).toThrow(expect.objectContaining({ code: 'KEY_MISMATCH' }));
    const app = pki.issuePush('com.example.app');
    expect(
      () => new ApnsClient({ credentials: { certificate: app.certPem, privateKey: app.keyPem } }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_TOPIC' }));
    expect(
      () => new ApnsClient({ credentials: { certificate: 'not a cert', privateKey: app.keyPem } }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CERTIFICATE' }));
  });

  it('rejects malformed pushes without sending them', async () => {
    const { mock, client } = await setup();
    expect(await client.push({ token: 'xyz', pushMagic: 'm' })).toMatchObject({
      ok: false,
      reason: 'InvalidPush',
    });
    expect(await client.push({ token: token(1), pushMagic: '' })).toMatchObject({
      ok: false,
      reason: 'InvalidPush',
    });
    expect(mock.stats.connections).toBe(0);
  });

  it('finishes in-flight pushes on close and reports later ones as ClientClosed', async () => {
    const { mock, client } = await setup({ latencyMs: 50 });
    const pending = Promise.all(pushes(20).map((p) => client.push(p)));
    while (mock.stats.received < 20) await new Promise((r) => setTimeout(r, 2));
    await client.close();
    const results = await pending;
    expect(results.every((r) => r.ok)).toBe(true);
    expect(mock.stats.answered).toBe(20);
    expect(await client.push({ token: token(1), pushMagic: 'm' })).toMatchObject({
      ok: false,
      reason: 'ClientClosed',
    });
  });

  it('uses port 2197 and the sandbox host when asked, through an injectable connect', async () => {
    const { mock } = await setup();
    const origins: string[] = [];
    const http2 = await import('node:http2');
    client = new ApnsClient({
      credentials: { certificate: push.certPem, privateKey: push.keyPem },
      environment: 'development',
      alternatePort: true,
      ca: pki.caPem,
      connect: (origin, options) => {
        origins.push(origin);
        return http2.connect(mock.origin, options);
      },
    });
    expect(await client.push({ token: token(1), pushMagic: 'm' })).toMatchObject({ ok: true });
    expect(origins).toEqual(['https://api.sandbox.push.apple.com:2197']);
  });

  it('escapes push magic that needs it in the JSON payload', async () => {
    const { mock, client } = await setup();
    const odd = ['plain-7F3A', 'quo"te', 'back\\slash', 'ctl\u0001\n', 'non-ascii é ☃', '\u2028'];
    for (const [i, pushMagic] of odd.entries()) {
      expect(await client.push({ token: token(i), pushMagic })).toMatchObject({ ok: true });
    }
    expect(mock.requests.map((r) => JSON.parse(r.body))).toEqual(odd.map((mdm) => ({ mdm })));
    expect(mock.requests[0]!.body).toBe('{"mdm":"plain-7F3A"}');
  });

  it('rejects tokens that are not whole bytes of hex, or too long', async () => {
    const { mock, client } = await setup();
    for (const bad of ['abc', 'a'.repeat(402), '0g'.repeat(32), '']) {
      expect(await client.push({ token: bad, pushMagic: 'm' })).toMatchObject({
        ok: false,
        reason: 'InvalidPush',
        attempts: 0,
      });
    }
    expect(await client.push({ token: 'AB'.repeat(32), pushMagic: 'm' })).toMatchObject({ ok: true });
    expect(mock.stats.received).toBe(1);
  });

  it('pushAll pulls an async iterable lazily with bounded concurrency and counts results', async () => {
    const { mock, client } = await setup({ latencyMs: 2 });
    let pulled = 0;
    let maxAhead = 0;
    async function* source() {
      for (const p of pushes(300)) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - mock.stats.answered);
        yield p;
      }
      yield { token: 'zz', pushMagic: 'm' };
    }
    const summary = await client.pushAll(source(), { concurrency: 20 });
    expect(summary).toEqual({ total: 301, delivered: 300, failed: 1, reasons: { InvalidPush: 1 } });
    expect(maxAhead).toBeLessThanOrEqual(21);
    expect(mock.stats.answered).toBe(300);
  });

  it('pushMany hands an error thrown by onResult to the iterator, never to an event handler', async () => {
    const { mock, client } = await setup({ latencyMs: 2 });
    const escaped: unknown[] = [];
    const onEscape = (e: unknown): void => {
      escaped.push(e);
    };
    process.on('uncaughtException', onEscape);
    try {
      let calls = 0;
      const yielded: PushResult[] = [];
      const run = (async () => {
        for await (const r of client.pushMany(pushes(500), {
          concurrency: 10,
          onResult: () => {
            if (++calls === 5) throw new Error('stop here');
          },
        })) {
          yielded.push(r);
        }
      })();
      await expect(run).rejects.toThrow('stop here');
      // Pulling stopped; every push that was started still got its one result.
      expect(mock.stats.received).toBeLessThan(100);
      expect(client.stats.pending).toBe(0);
      expect(yielded.length).toBe(mock.stats.received);
      expect(new Set(yielded.map((r) => r.push.token)).size).toBe(yielded.length);
      expect(yielded.every((r) => r.ok)).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(escaped).toEqual([]);
    } finally {
      process.off('uncaughtException', onEscape);
    }
  });

  it('does not count refused streams toward the retry budget', async () => {
    let sent = 0;
    const { mock, client } = await setup(
      {
        respond: () => {
          sent++;
          if (sent <= 2) {
            // GOAWAY naming no stream as processed: this request is refused (REFUSED_STREAM).
            mock!.goawayAll({ lastStreamId: 0 });
            return { hang: true };
          }
          if (sent === 3) return { reason: 'InternalServerError' };
          return undefined;
        },
      },
      { retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 } },
    );
    const r = await client.push({ token: token(7), pushMagic: 'm' });
    expect(mock.stats.refused).toBe(2);
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    expect(mock.stats.byStatus).toEqual({ 200: 1, 500: 1 });
  });

  it('ends a push APNs keeps refusing after 10 re-sends, with no attempt counted', async () => {
    const { mock, client } = await setup({
      respond: () => {
        mock!.goawayAll({ lastStreamId: 0 });
        return { hang: true };
      },
    });
    const r = await client.push({ token: token(8), pushMagic: 'm' });
    expect(mock.stats.refused).toBe(11);
    expect(r).toMatchObject({
      ok: false,
      status: 0,
      reason: 'ConnectionFailed',
      attempts: 0,
      transient: true,
    });
  });

  it('pushAll stops pulling when onResult throws and rejects once started pushes finished', async () => {
    const { mock, client } = await setup({ latencyMs: 2 });
    let n = 0;
    const run = client.pushAll(pushes(500), {
      concurrency: 10,
      onResult: () => {
        if (++n === 5) throw new Error('stop here');
      },
    });
    await expect(run).rejects.toThrow('stop here');
    expect(client.stats.pending).toBe(0);
    expect(mock.stats.received).toBeLessThan(100);
    expect(mock.stats.answered).toBe(mock.stats.received);
  });

  it('times out requests through the sweeper within a fraction of the timeout', async () => {
    const { client } = await setup({ hang: true }, { requestTimeoutMs: 300, retry: { maxAttempts: 1 } });
    const started = Date.now();
    const r = await client.push({ token: token(1), pushMagic: 'm' });
    const took = Date.now() - started;
    expect(r).toMatchObject({ ok: false, reason: 'Timeout', attempts: 1 });
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(1500);
  });

  it('gets a distinct UUID-shaped apns-id per push from the mock, with recording off', async () => {
    const { mock, client } = await setup({ record: false });
    const ids: string[] = [];
    const summary = await client.pushAll(pushes(300), {
      onResult: (r) => {
        if (r.ok) ids.push(r.apnsId);
      },
    });
    expect(summary.delivered).toBe(300);
    expect(new Set(ids).size).toBe(300);
    for (const id of ids)
      expect(id).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    expect(mock.requests).toEqual([]);
    expect(mock.stats.answered).toBe(300);
  });
});
