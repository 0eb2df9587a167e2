// The servers the benchmark measures, all in one process so each sees the same runtime; the parent
// drives load at one of them at a time. Prints `{ name: port }` as one JSON line when ready.
import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { type FetchHandler, type Handler, toFetchHandler, toNodeListener } from '../src/index';

const TEXT = { 'content-type': 'text/plain' };

/** The same answer everywhere: GET gets `ok`, a body gets its length back. */
const handler: Handler = (req) => ({
  status: 200,
  headers: TEXT,
  body: req.body.length === 0 ? 'ok' : String(req.body.length),
});

function bare(req: IncomingMessage, res: ServerResponse): void {
  const answer = (text: string) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    answer('ok');
    return;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  req.on('data', (c: Buffer) => {
    total += c.length;
    chunks.push(c);
  });
  req.on('end', () => answer(total === 0 ? 'ok' : String(Buffer.concat(chunks).length)));
}

/** What a bare fetch-style handler does, for the bridge baseline. */
const bareFetch: FetchHandler = async (request) => {
  const body = request.body === null ? 0 : (await request.arrayBuffer()).byteLength;
  return new Response(body === 0 ? 'ok' : String(body), { status: 200, headers: TEXT });
};

/** A minimal node:http → WHATWG bridge, the part a framework's node server (e.g. hono's) plays. */
function bridge(fetchHandler: FetchHandler) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers: req.headers as Record<string, string>,
      ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
    } as RequestInit);
    fetchHandler(request, { remoteAddress: req.socket.remoteAddress ?? '' }).then(async (response) => {
      const body = Buffer.from(await response.arrayBuffer());
      const headers: Record<string, string> = { 'content-length': String(body.length) };
      response.headers.forEach((v, k) => {
        headers[k] = v;
      });
      res.writeHead(response.status, headers);
      res.end(body);
    });
  };
}

const servers = {
  'bare node:http': createServer(bare),
  '@mdmkit/http node adapter': createServer(toNodeListener(handler)),
  'bridge + bare fetch handler': createServer(bridge(bareFetch)),
  'bridge + @mdmkit/http fetch adapter': createServer(bridge(toFetchHandler(handler))),
};

const ports: Record<string, number> = {};
for (const [name, server] of Object.entries(servers)) {
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ports[name] = (server.address() as AddressInfo).port;
}
process.stdout.write(`${JSON.stringify(ports)}\n`);
// The parent asks for this process's CPU time around each measurement.
process.on('message', () => {
  const { user, system } = process.cpuUsage();
  process.send?.(user + system);
});
process.on('SIGTERM', () => process.exit(0));
