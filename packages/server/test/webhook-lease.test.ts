import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStorage } from '@mdmkit/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookWorker } from '../src/index';

/** A receiver that takes `delayMs` to answer and records how many deliveries of one event overlap. */
async function slowReceiver(delayMs: number) {
  const inFlight = new Map<string, number>();
  const overlapped = new Set<string>();
  const accepted: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { event_id: string }).event_id;
      const n = (inFlight.get(id) ?? 0) + 1;
      inFlight.set(id, n);
      if (n > 1) overlapped.add(id);
      setTimeout(() => {
        inFlight.set(id, (inFlight.get(id) ?? 1) - 1);
        accepted.push(id);
        res.writeHead(200).end('ok');
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url, overlapped, accepted, close };
}

describe('webhook worker leases', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  it('refuses a delivery timeout that does not fit in the lease', () => {
    const store = new MemoryStorage();
    expect(() =>
      createWebhookWorker({ store, url: 'http://127.0.0.1:1/', leaseMs: 1000, timeoutMs: 1000 }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('never delivers an event whose lease ran out while a slow receiver held the batch', async () => {
    const receiver = await slowReceiver(150);
    cleanup.push(receiver.close);
    const store = new MemoryStorage();
    const ids = Array.from({ length: 8 }, (_, i) => `evt-${i}`);
    await store.enqueueOutbox(
      ids.map((id) => ({
        id,
        topic: 'mdm.Connect',
        payload: new TextEncoder().encode(`{"event_id":"${id}"}`),
      })),
    );
    // One batch of 8 slow deliveries (8 × 150 ms) is far longer than the 500 ms lease.
    const options = { store, url: receiver.url, batchSize: 8, leaseMs: 500, timeoutMs: 300, pollMs: 20 };
    const a = createWebhookWorker(options);
    const b = createWebhookWorker(options);
    a.start();
    await new Promise((r) => setTimeout(r, 50));
    b.start();
    cleanup.push(async () => {
      await a.stop();
      await b.stop();
    });
    const deadline = Date.now() + 8000;
    while (new Set(receiver.accepted).size < ids.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(new Set(receiver.accepted)).toEqual(new Set(ids));
    // Two workers must never hand the same event to the receiver at the same time.
    expect([...receiver.overlapped]).toEqual([]);
  });

  it('confirms on the status line, without reading a receiver answer that never ends', async () => {
    let open = true;
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (open && res.write(chunk)) {}
        if (open) res.once('drain', pump);
      };
      _req.resume();
      _req.on('end', pump);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          open = false;
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const store = new MemoryStorage();
    await store.enqueueOutbox([{ id: 'e1', topic: 'mdm.Connect', payload: new TextEncoder().encode('{}') }]);
    const worker = createWebhookWorker({
      store,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
      timeoutMs: 3000,
      leaseMs: 10_000,
    });
    const started = performance.now();
    expect(await worker.runOnce()).toEqual({ delivered: 1, failed: 0 });
    // Not held until the timeout while the answer streams in.
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
