import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { type HttpError, toFetchHandler } from '../src/index';
import { echo, type Seen } from './echo';

const der = Buffer.concat([Buffer.from([0x30, 0x81, 0x80]), Buffer.alloc(128, 1)]);
const header = `:${der.toString('base64')}:`;

describe('WHATWG Request → Response adapter', () => {
  const errors: HttpError[] = [];
  const handle = toFetchHandler(
    (req) => {
      if (req.path === '/throw') throw new Error('secret detail');
      if (req.path === '/none') return { status: 204, body: 'x' };
      if (req.path === '/bad-header') return { status: 200, headers: { 'x-echo': 'a\r\nx-injected: 1' } };
      if (req.path === '/multi') return { status: 200, headers: { 'set-cookie': ['a=1', 'b=2'] } };
      return echo(req);
    },
    {
      maxBodyBytes: 1024,
      bodyTimeoutMs: 200,
      trustedProxies: ['10.0.0.0/8'],
      onError: (e) => errors.push(e),
    },
  );
  const seen = async (res: Response) => (await res.json()) as Seen;

  it('hands the request over, with the address the runtime reports', async () => {
    const res = await handle(
      new Request('https://mdm.example/mdm/checkin?a=1#frag', {
        method: 'put',
        headers: { 'X-Test': 'v' },
        body: 'plist',
      }),
      { remoteAddress: '192.0.2.1' },
    );
    expect(await seen(res)).toMatchObject({
      method: 'PUT',
      path: '/mdm/checkin',
      rawQuery: 'a=1',
      a: '1',
      header: 'v',
      body: 'plist',
      remoteAddress: '192.0.2.1',
      certSource: null,
    });
  });

  it('413 for declared and streamed oversize bodies', async () => {
    const declared = await handle(
      new Request('http://x/p', {
        method: 'POST',
        body: 'x'.repeat(2000),
        headers: { 'content-length': '2000' },
      }),
    );
    expect(declared.status).toBe(413);
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(300));
      },
    });
    const streamed = await handle(
      new Request('http://x/p', { method: 'POST', body: stream, duplex: 'half' } as RequestInit),
    );
    expect(streamed.status).toBe(413);
    expect(await streamed.text()).toBe('request body too large\n');
  });

  it('408 for a body that stalls', async () => {
    const stalled = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(3));
      },
    });
    const res = await handle(
      new Request('http://x/p', { method: 'POST', body: stalled, duplex: 'half' } as RequestInit),
    );
    expect(res.status).toBe(408);
    expect(errors.some((e) => e.code === 'BODY_TIMEOUT')).toBe(true);
  });

  it('a handler that throws gets a plain 500', async () => {
    const res = await handle(new Request('http://x/throw'));
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('internal error\n');
  });

  it('a header the runtime refuses is a plain 500', async () => {
    const res = await handle(new Request('http://x/bad-header'));
    expect(res.status).toBe(500);
    expect(errors.some((e) => e.code === 'BAD_RESPONSE')).toBe(true);
  });

  it('204 carries no body; repeated header values stay separate', async () => {
    const none = await handle(new Request('http://x/none'));
    expect(none.status).toBe(204);
    expect(none.body).toBeNull();
    const multi = await handle(new Request('http://x/multi'));
    expect(multi.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('attack: the Client-Cert header is ignored from an untrusted address and without an address', async () => {
    const forged = new Request('http://x/c', { headers: { 'client-cert': header } });
    expect((await seen(await handle(forged, { remoteAddress: '192.0.2.1' }))).certSource).toBeNull();
    expect((await seen(await handle(forged.clone()))).certSource).toBeNull();
  });

  it('the header is used from a trusted proxy; the TLS certificate the runtime reports otherwise', async () => {
    const viaProxy = await seen(
      await handle(new Request('http://x/c', { headers: { 'client-cert': header } }), {
        remoteAddress: '10.1.1.1',
      }),
    );
    expect(viaProxy).toMatchObject({ certSource: 'proxy-header', certDer: der.toString('base64') });
    const direct = await seen(
      await handle(new Request('http://x/c', { headers: { 'client-cert': ':AAAA:' } }), {
        remoteAddress: '192.0.2.1',
        clientCertificate: der,
      }),
    );
    expect(direct).toMatchObject({ certSource: 'tls', certDer: der.toString('base64') });
  });

  it('bad options are refused when the adapter is built', () => {
    expect(() => toFetchHandler(echo, { maxBodyBytes: -1 })).toThrow(/maxBodyBytes/);
    expect(() => toFetchHandler(echo, { bodyTimeoutMs: 0 })).toThrow(/bodyTimeoutMs/);
    expect(() => toFetchHandler(echo, { trustedProxies: ['*'] })).toThrow(/not an IP address/);
    expect(() => toFetchHandler(echo, { clientCertHeader: 'bad header' })).toThrow(/header name/);
  });
});
