// A DEP "server" that misbehaves on purpose: the client and the syncer must end with a typed error
// in bounded time and requests, whatever it answers.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createStaticKeyProvider } from '@mdmkit/crypto';
import { MemoryDepStore, MemoryStorage } from '@mdmkit/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { connectDepToken, DepClient, DepSyncer } from '../src/index';
import { fakeClock } from './fake-clock';

const creds = { consumerKey: 'CK_h', consumerSecret: 'CS_h', accessToken: 'AT_h', accessSecret: 'AS_h' };
type Handler = (req: IncomingMessage, res: ServerResponse, count: number) => void;

const servers: Server[] = [];
const clients: DepClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** Answers /session with a session and everything else with `handler`; counts requests per path. */
async function hostile(handler: Handler): Promise<{ url: string; counts: Map<string, number> }> {
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    req.resume();
    req.on('end', () => {
      if (path === '/session') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ auth_session_token: 'session-1' }));
      } else handler(req, res, n);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function syncerFor(url: string) {
  const keyProvider = createStaticKeyProvider(randomBytes(32));
  const store = new MemoryDepStore();
  const leases = new MemoryStorage();
  await leases.migrate();
  await connectDepToken(store, keyProvider, {
    name: 'main',
    token: { ...creds, accessTokenExpiry: new Date('2031-01-01T00:00:00Z') },
    baseUrl: url,
  });
  return { store, syncer: new DepSyncer({ store, leases, keyProvider, clock: fakeClock() }) };
}

describe('a hostile DEP server cannot make the syncer loop', () => {
  it('stops with CURSOR_EXHAUSTED when sync answers EXHAUSTED_CURSOR, instead of asking again forever', async () => {
    const { url, counts } = await hostile((req, res, n) => {
      if (req.url === '/server/devices') return json(res, 200, { cursor: 'c1', more_to_follow: false, devices: [] });
      // Give the loop an exit after 50 so that the test ends either way.
      if (n > 50) return json(res, 500, 'INTERNAL_ERROR');
      json(res, 400, 'EXHAUSTED_CURSOR');
    });
    const { syncer, store } = await syncerFor(url);
    expect((await syncer.syncToken('main')).pages).toBe(1); // the fetch, done
    await expect(syncer.syncToken('main')).rejects.toMatchObject({ code: 'CURSOR_EXHAUSTED' });
    expect(counts.get('/devices/sync')).toBe(1);
    expect((await store.getDepCursor('main'))?.cursor).toBe('c1');
  });

  it('stops with INVALID_RESPONSE when the server says more_to_follow but hands back the same cursor', async () => {
    const { url, counts } = await hostile((req, res, n) => {
      if (n > 50) return json(res, 500, 'INTERNAL_ERROR');
      json(res, 200, { cursor: 'same', more_to_follow: true, devices: [] });
    });
    const { syncer } = await syncerFor(url);
    await expect(syncer.syncToken('main')).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
    expect(counts.get('/server/devices')).toBeLessThanOrEqual(2);
  });
});

describe('a hostile DEP server cannot hold the client past its deadline', () => {
  it('a body trickled one byte at a time ends at timeoutMs, not when the server stops', async () => {
    const { url } = await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(t));
      setTimeout(() => {
        clearInterval(t);
        res.end('{}');
      }, 6000).unref();
    });
    const client = new DepClient({ token: creds, baseUrl: url, timeoutMs: 400, retry: { maxRetries: 0 } });
    clients.push(client);
    const t0 = Date.now();
    await expect(client.getAccount()).rejects.toMatchObject({ code: 'NETWORK' });
    expect(Date.now() - t0).toBeLessThan(2500);
  });

  it('each client keeps its own timeoutMs when clients share a pool', async () => {
    const { url } = await hostile(() => {
      // never answers
    });
    clients.push(new DepClient({ token: creds, baseUrl: url })); // first on this origin, 60 s default
    const client = new DepClient({ token: creds, baseUrl: url, timeoutMs: 300, retry: { maxRetries: 0 } });
    clients.push(client);
    const t0 = Date.now();
    await expect(client.getAccount()).rejects.toMatchObject({ code: 'NETWORK' });
    expect(Date.now() - t0).toBeLessThan(2500);
  }, 70_000);
});
