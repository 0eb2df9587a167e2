import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSelfSignedCa } from '@mdmkit/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Fleet } from '../src/fleet';

// A server that misbehaves in one given way; the fleet must count every such answer as an error
// of the operation and finish the phase on time.
const servers: { close(): void; closeAllConnections(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

async function serverAnswering(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(req, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mdm`;
}

const identity = createSelfSignedCa({ subject: 'CN=fleet test device' });

async function fleetOf(url: string, devices: number, requestTimeoutMs?: number): Promise<Fleet> {
  const { certificate, privateKey } = await identity;
  const fleet = new Fleet(requestTimeoutMs === undefined ? {} : { requestTimeoutMs });
  const facts = {
    serverUrl: url,
    checkInUrl: url,
    topic: 'com.example',
    signMessage: true,
    scep: { url: '', subject: {} },
  };
  for (let i = 0; i < devices; i++) fleet.adopt(facts, { certificate, privateKey }, `UDID-${i}`);
  return fleet;
}

describe('Fleet against a misbehaving server', () => {
  it('counts a server that never answers as timed-out errors and still ends the phase', async () => {
    const url = await serverAnswering(() => {});
    const fleet = await fleetOf(url, 3, 300);
    const started = performance.now();
    await fleet.checkIns({ rate: 100, total: 3 });
    expect(performance.now() - started).toBeLessThan(3000);
    const s = fleet.stats.summary();
    expect(s.operations.idle).toMatchObject({ ok: 0, errors: 3 });
    expect(s.errors).toEqual({
      'REQUEST_FAILED no answer within 300 ms: The operation was aborted due to timeout': 3,
    });
  }, 10_000);

  it('times out a server that sends headers and then stalls the body', async () => {
    const url = await serverAnswering((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.write('<?xml version="1.0"?>');
    });
    const fleet = await fleetOf(url, 2, 300);
    await fleet.checkIns({ rate: 100, total: 2 });
    expect(fleet.stats.summary().operations.idle).toMatchObject({ ok: 0, errors: 2 });
    expect(Object.keys(fleet.stats.summary().errors)).toEqual([
      'REQUEST_FAILED no answer within 300 ms: The operation was aborted due to timeout',
    ]);
  }, 10_000);

  it('counts 500s and HTML pages as errors, never as commands', async () => {
    const five = await serverAnswering((_req, res) => {
      res.statusCode = 500;
      res.end('oops');
    });
    const html = await serverAnswering((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<html><body>Sign in</body></html>');
    });
    const a = await fleetOf(five, 2);
    await a.checkIns({ rate: 100, total: 4 });
    expect(a.stats.summary()).toMatchObject({
      errorCount: 4,
      errors: { 'REQUEST_FAILED the server answered a report with 500': 4 },
      commands: { handled: 0 },
    });
    const b = await fleetOf(html, 2);
    await b.checkIns({ rate: 100, total: 4 });
    expect(b.stats.summary()).toMatchObject({ errorCount: 4, commands: { handled: 0 } });
    expect(b.stats.summary().operations.idle?.ok).toBe(0);
  }, 10_000);

  it('refuses an answer larger than the limit instead of buffering it', async () => {
    const big = await serverAnswering((_req, res) => {
      res.setHeader('content-type', 'application/xml');
      res.end(Buffer.alloc(20 * 1024 * 1024, 0x20));
    });
    const fleet = await fleetOf(big, 1);
    await fleet.checkIns({ rate: 100, total: 1 });
    expect(fleet.stats.summary().errors).toEqual({
      'REQUEST_FAILED the answer is larger than 16777216 bytes': 1,
    });
  }, 10_000);
});
