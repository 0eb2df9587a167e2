import { connect } from 'node:http2';
import { MemoryStorage } from '@mdmkit/storage';
import { createRouter, serve } from '@mdmkit/http';
import { describe, expect, it, vi } from 'vitest';
import {
  createScepPolicy,
  createScepServer,
  scepHandler,
  staticChallenge,
  toFetchHandler,
} from '../src/index';
import { CHALLENGE, testCa } from './helpers';

async function small() {
  return createScepServer({
    ca: await testCa(),
    store: new MemoryStorage(),
    policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    maxBodyBytes: 4096,
  });
}

describe('SCEP on @mdmkit/http', () => {
  it('toFetchHandler serves the mount path only and keeps the server body limit', async () => {
    const handle = toFetchHandler(await small(), { path: '/scep' });
    const caps = await handle(new Request('http://x/scep/?operation=GetCACaps'));
    expect(caps.status).toBe(200);
    expect(await caps.text()).toContain('POSTPKIOperation');
    expect((await handle(new Request('http://x/other?operation=GetCACaps'))).status).toBe(404);
    const big = new Request('http://x/scep?operation=PKIOperation', {
      method: 'POST',
      body: new Uint8Array(5000),
    });
    expect((await handle(big)).status).toBe(413);
  });

  it('mounts in a router beside other handlers and answers over HTTP/2', async () => {
    const scep = await small();
    const router = createRouter()
      .add('*', '/scep', scepHandler(scep))
      .get('/health', () => ({ status: 200, body: 'ok' }));
    const running = await serve(router.handle, { http2: true, maxBodyBytes: scep.maxBodyBytes });
    try {
      const session = connect(running.url);
      const answer = await new Promise<{ status: number; type: string }>((resolve, reject) => {
        const req = session.request({ ':path': '/scep?operation=GetCACert' });
        req.on('response', (h) => resolve({ status: Number(h[':status']), type: String(h['content-type']) }));
        req.on('error', reject);
        req.end();
      });
      session.close();
      expect(answer.status).toBe(200);
      expect(answer.type).toMatch(/^application\/x-x509-ca/);
    } finally {
      await running.close();
    }
  });

  it('scep.fetch reads bodies through @mdmkit/http: a stalled body gets 408, not a hung request', async () => {
    const scep = await small();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const stalled = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new Uint8Array(10));
        },
      });
      const pending = scep.fetch(
        new Request('http://x/scep?operation=PKIOperation', {
          method: 'POST',
          body: stalled,
          duplex: 'half',
        } as RequestInit),
      );
      await vi.advanceTimersByTimeAsync(30_000);
      const res = await pending;
      expect(res.status).toBe(408);
      expect(await res.text()).toBe('request body timeout\n');
    } finally {
      vi.useRealTimers();
    }
  });

  it('scep.fetch answers a streamed body over the limit and a failing body stream like the adapters', async () => {
    const scep = await small();
    const chunks = (n: number) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < n; i++) c.enqueue(new Uint8Array(1024));
          c.close();
        },
      });
    const over = await scep.fetch(
      new Request('http://x/scep?operation=PKIOperation', {
        method: 'POST',
        body: chunks(5),
        duplex: 'half',
      } as RequestInit),
    );
    expect(over.status).toBe(413);
    expect(await over.text()).toBe('request body too large\n');
    const broken = new ReadableStream<Uint8Array>({
      start(c) {
        c.error(new Error('client went away at /secret/path'));
      },
    });
    const res = await scep.fetch(
      new Request('http://x/scep?operation=PKIOperation', {
        method: 'POST',
        body: broken,
        duplex: 'half',
      } as RequestInit),
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('bad request\n');
  });
});
