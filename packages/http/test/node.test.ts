import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpError, type RunningHttpServer, serve } from '../src/index';
import { echo, type Seen } from './echo';
import { rawConnect, untilClosed } from './helpers';

describe('node:http adapter', () => {
  let running: RunningHttpServer;
  const errors: HttpError[] = [];
  beforeAll(async () => {
    running = await serve(
      (req) => {
        if (req.path === '/throw') throw new Error('secret detail: db password hunter2');
        if (req.path === '/reject') return Promise.reject(new Error('secret detail'));
        if (req.path === '/invalid') return { status: 42 } as never;
        if (req.path === '/bad-header') return { status: 200, headers: { 'x-echo': 'a\r\nx-injected: 1' } };
        if (req.path === '/bad-header-async')
          return Promise.resolve({ status: 200, headers: { 'bad name': 'v' } });
        if (req.path === '/async') return Promise.resolve({ status: 201, body: 'made' });
        if (req.path === '/empty') return { status: 204, body: 'dropped' };
        return echo(req);
      },
      {
        maxBodyBytes: 1024,
        bodyTimeoutMs: 400,
        headersTimeoutMs: 500,
        requestTimeoutMs: 2_000,
        onError: (e) => errors.push(e),
      },
    );
  });
  afterAll(() => running.close());

  it('hands method, path, query, headers, body and peer address to the handler (fetch)', async () => {
    const res = await fetch(`${running.url}/mdm/checkin?a=1&b=2`, {
      method: 'PUT',
      headers: { 'x-test': 'yes' },
      body: 'hello',
    });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Seen;
    expect(seen).toMatchObject({
      method: 'PUT',
      path: '/mdm/checkin',
      rawQuery: 'a=1&b=2',
      a: '1',
      header: 'yes',
      bodyLength: 5,
      body: 'hello',
      remoteAddress: '127.0.0.1',
      certSource: null,
    });
  });

  it('reads a chunked body sent by node:http in several writes', async () => {
    const seen = await new Promise<Seen>((resolve, reject) => {
      const req = httpRequest(`${running.url}/chunks`, { method: 'POST' }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d;
        });
        res.on('end', () => resolve(JSON.parse(text) as Seen));
      });
      req.on('error', reject);
      req.write('one ');
      setTimeout(() => req.end('two'), 20);
    });
    expect(seen.body).toBe('one two');
  });

  it('answers 413 to a declared oversize body before reading it', async () => {
    const socket = await rawConnect(running.port);
    const closed = untilClosed(socket);
    socket.write('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n');
    const { text } = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(errors.some((e) => e.code === 'BODY_TOO_LARGE')).toBe(true);
  });

  it('Expect: 100-continue with an oversize Content-Length gets 413 and no 100 Continue', async () => {
    const socket = await rawConnect(running.port);
    const closed = untilClosed(socket);
    socket.write('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n');
    const { text } = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).not.toContain('100 Continue');
  });

  it('Expect: 100-continue within the limit gets 100 Continue, then the answer', async () => {
    const socket = await rawConnect(running.port);
    const closed = untilClosed(socket);
    socket.write(
      'POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
    );
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write('hello');
    const { text } = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
  });

  it('answers 413 to a streamed body that goes over the limit, and fetch sees it', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(512));
        c.close();
      },
    });
    const res = await fetch(`${running.url}/x`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.text()).toBe('request body too large\n');
  });

  it('a slowloris client dribbling headers is cut off by the header timeout', async () => {
    const socket = await rawConnect(running.port);
    const closed = untilClosed(socket);
    socket.write('GET / HTTP/1.1\r\nHost: t\r\n');
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write('X-A: b\r\n');
    }, 100);
    const { ms } = await closed;
    clearInterval(drip);
    // headersTimeout 500 ms, checked every 125 ms.
    expect(ms).toBeLessThan(2_000);
  });

  it('a client that sends part of its body and stalls gets 408', async () => {
    const socket = await rawConnect(running.port);
    const closed = untilClosed(socket);
    socket.write('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc');
    const { text, ms } = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeLessThan(3_000);
    expect(errors.some((e) => e.code === 'BODY_TIMEOUT')).toBe(true);
  });

  it('a handler that throws gets a plain 500 that leaks nothing; the error goes to onError', async () => {
    for (const path of ['/throw', '/reject']) {
      const res = await fetch(`${running.url}${path}`);
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).toBe('internal error\n');
      expect(text).not.toContain('secret');
    }
    const failures = errors.filter((e) => e.code === 'HANDLER_FAILED');
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(String((failures[0]!.cause as Error).message)).toContain('secret detail');
  });

  it('a malformed response is a 500 too', async () => {
    const res = await fetch(`${running.url}/invalid`);
    expect(res.status).toBe(500);
    expect(errors.some((e) => e.code === 'BAD_RESPONSE')).toBe(true);
  });

  it('a header Node refuses to send (CR/LF in a value, a bad name) is a 500, not a crash', async () => {
    for (const path of ['/bad-header', '/bad-header-async']) {
      const res = await fetch(`${running.url}${path}`);
      expect(res.status).toBe(500);
      expect(res.headers.get('x-injected')).toBeNull();
    }
    expect(errors.filter((e) => e.code === 'BAD_RESPONSE').length).toBeGreaterThanOrEqual(3);
  });

  it('async handlers, and no body for 204', async () => {
    const made = await fetch(`${running.url}/async`);
    expect(made.status).toBe(201);
    expect(await made.text()).toBe('made');
    const empty = await fetch(`${running.url}/empty`);
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
  });

  it('keeps serving after all of the above', async () => {
    const res = await fetch(`${running.url}/still?a=ok`);
    expect(((await res.json()) as Seen).a).toBe('ok');
  });

  it('an onError that throws changes no answer and takes nothing down', async () => {
    const failing = await serve(
      (req) => {
        if (req.path === '/throw') throw new Error('handler failed');
        const headers: Record<string, string> = req.path === '/bad' ? { 'bad name': 'v' } : {};
        return Promise.resolve({ status: 200, headers });
      },
      {
        maxBodyBytes: 10,
        onError: () => {
          throw new Error('logger down');
        },
      },
    );
    try {
      expect((await fetch(`${failing.url}/throw`)).status).toBe(500);
      expect((await fetch(`${failing.url}/bad`)).status).toBe(500);
      expect((await fetch(`${failing.url}/x`, { method: 'POST', body: 'x'.repeat(100) })).status).toBe(413);
      expect((await fetch(`${failing.url}/ok`)).status).toBe(200);
    } finally {
      await failing.close();
    }
  });
});
