import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHttpServer, type ServeOptions, serve } from '../src/index';
import { echo, type Seen } from './echo';
import { have, makePki, runCurl, type TestPki } from './helpers';

function derB64(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

describe.skipIf(!have.curl)('curl over HTTP/1.1', () => {
  let running: RunningHttpServer;
  beforeAll(async () => {
    running = await serve(echo, { maxBodyBytes: 64 });
  });
  afterAll(() => running.close());

  it('GET and POST', async () => {
    const get = await runCurl(`${running.url}/a/b?a=x`, ['--http1.1', '-H', 'X-Test: curl']);
    expect(get.version).toBe('1.1');
    expect(JSON.parse(get.body)).toMatchObject({ method: 'GET', path: '/a/b', a: 'x', header: 'curl' });
    const post = await runCurl(`${running.url}/p`, ['--http1.1', '--data-binary', 'payload']);
    expect(JSON.parse(post.body)).toMatchObject({ method: 'POST', body: 'payload' });
  });

  it('413 for a declared oversize body and for a chunked one', async () => {
    const big = 'x'.repeat(10_000);
    const declared = await runCurl(`${running.url}/p`, ['--http1.1', '--data-binary', big]);
    expect(declared.status).toBe(413);
    const chunked = await runCurl(`${running.url}/p`, [
      '--http1.1',
      '-H',
      'Transfer-Encoding: chunked',
      '--data-binary',
      big,
    ]);
    expect(chunked.status).toBe(413);
  });
});

describe.skipIf(!have.curlHttp2 || !have.openssl)('HTTP/2 (node:http2 compatibility API)', () => {
  let pki: TestPki;
  let h2c: RunningHttpServer;
  let h2: RunningHttpServer;
  beforeAll(async () => {
    pki = makePki();
    const handler = (req: Parameters<typeof echo>[0]) => {
      if (req.path === '/throw') throw new Error('secret');
      return echo(req);
    };
    h2c = await serve(handler, { http2: true, maxBodyBytes: 64 });
    h2 = await serve(handler, {
      http2: true,
      tls: { key: pki.serverKey, cert: pki.serverCert },
      maxBodyBytes: 64,
    });
  });
  afterAll(async () => {
    await h2c.close();
    await h2.close();
    pki.cleanup();
  });

  it('cleartext h2c with prior knowledge', async () => {
    const r = await runCurl(`${h2c.url}/h?a=2`, ['--http2-prior-knowledge', '--data-binary', 'hi']);
    expect(r.version).toBe('2');
    expect(JSON.parse(r.body)).toMatchObject({ method: 'POST', path: '/h', a: '2', body: 'hi' });
  });

  it('h2 over TLS (ALPN), and HTTP/1.1 on the same port', async () => {
    const ca = join(pki.dir, 'ca.pem');
    const r = await runCurl(`${h2.url}/t`, ['--http2', '--cacert', ca]);
    expect(r.version).toBe('2');
    expect((JSON.parse(r.body) as Seen).path).toBe('/t');
    const old = await runCurl(`${h2.url}/t`, ['--http1.1', '--cacert', ca]);
    expect(old.version).toBe('1.1');
    expect(old.status).toBe(200);
  });

  it('413 for a declared oversize body', async () => {
    const r = await runCurl(`${h2c.url}/p`, ['--http2-prior-knowledge', '--data-binary', 'x'.repeat(10_000)]);
    expect(r.status, r.stderr).toBe(413);
    expect(r.body).toBe('request body too large\n');
  });

  it('413 for a streamed body without content-length, and the session stays usable', async () => {
    const session = connect(h2c.url);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': '/p' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        for (let i = 0; i < 4; i++) req.write(Buffer.alloc(40));
        req.end();
      });
      expect(status).toBe(413);
      const again = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/ok' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.end();
      });
      expect(again).toBe(200);
    } finally {
      session.close();
    }
  });

  it('a handler that throws gets a plain 500', async () => {
    const r = await runCurl(`${h2c.url}/throw`, ['--http2-prior-knowledge']);
    expect(r.status).toBe(500);
    expect(r.body).toBe('internal error\n');
  });
});

describe.skipIf(!have.curl || !have.openssl)('client certificate identity', () => {
  let pki: TestPki;
  const servers: RunningHttpServer[] = [];
  const start = async (options: ServeOptions) => {
    const s = await serve(echo, options);
    servers.push(s);
    return s;
  };
  const tls = () => ({
    key: pki.serverKey,
    cert: pki.serverCert,
    ca: pki.caPem,
    requestCert: true,
    rejectUnauthorized: false,
  });
  beforeAll(() => {
    pki = makePki();
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    pki.cleanup();
  });

  const rfc9440 = () => `Client-Cert: :${derB64(pki.clientCertPem)}:`;
  /** curl arguments that trust the test CA and present the device's certificate. */
  const asDevice = () => [
    '--cacert',
    join(pki.dir, 'ca.pem'),
    '--cert',
    pki.clientCertPath,
    '--key',
    pki.clientKeyPath,
  ];
  const deviceB64 = () => Buffer.from(pki.clientDer).toString('base64');

  it('comes from the TLS handshake', async () => {
    const s = await start({ tls: tls() });
    const seen = JSON.parse((await runCurl(`${s.url}/c`, asDevice())).body) as Seen;
    expect(seen.certSource).toBe('tls');
    expect(seen.certDer).toBe(deviceB64());
    const none = JSON.parse(
      (await runCurl(`${s.url}/c`, ['--cacert', join(pki.dir, 'ca.pem')])).body,
    ) as Seen;
    expect(none.certSource).toBeNull();
  });

  it.skipIf(!have.curlHttp2)('comes from the TLS handshake over HTTP/2 too', async () => {
    const s = await start({ tls: tls(), http2: true });
    const r = await runCurl(`${s.url}/c`, ['--http2', ...asDevice()]);
    expect(r.version).toBe('2');
    expect(JSON.parse(r.body)).toMatchObject({
      certSource: 'tls',
      certDer: deviceB64(),
      remoteAddress: '127.0.0.1',
    });
  });

  it('attack: a Client-Cert header from an address that is not a trusted proxy is ignored', async () => {
    const s = await start({ trustedProxies: ['10.0.0.0/8', '::1'] });
    const seen = JSON.parse((await runCurl(`${s.url}/c`, ['-H', rfc9440()])).body) as Seen;
    expect(seen.certSource).toBeNull();
    expect(seen.certDer).toBeNull();
  });

  it('attack: with no proxy configured (the default) the header is ignored too', async () => {
    const s = await start({});
    const seen = JSON.parse((await runCurl(`${s.url}/c`, ['-H', rfc9440()])).body) as Seen;
    expect(seen.certSource).toBeNull();
  });

  it('attack: a client with its own TLS certificate cannot swap in another through the header', async () => {
    const s = await start({ tls: tls(), trustedProxies: ['10.0.0.1'] });
    const other = `Client-Cert: :${derB64(readFileSync(join(pki.dir, 'proxy.pem'), 'utf8'))}:`;
    const seen = JSON.parse((await runCurl(`${s.url}/c`, [...asDevice(), '-H', other])).body) as Seen;
    expect(seen.certSource).toBe('tls');
    expect(seen.certDer).toBe(deviceB64());
  });

  it('from a trusted proxy, the RFC 9440 header is used', async () => {
    const s = await start({ trustedProxies: ['127.0.0.0/8'] });
    const seen = JSON.parse((await runCurl(`${s.url}/c`, ['-H', rfc9440()])).body) as Seen;
    expect(seen.certSource).toBe('proxy-header');
    expect(seen.certDer).toBe(deviceB64());
  });

  it("from a trusted proxy, the escaped-PEM header is used, and the proxy's own TLS certificate never is", async () => {
    const s = await start({
      tls: tls(),
      trustedProxies: ['::ffff:127.0.0.1', '127.0.0.1'],
      clientCertHeaderFormat: 'escaped-pem',
    });
    const ca = join(pki.dir, 'ca.pem');
    const asProxy = ['--cacert', ca, '--cert', pki.proxyCertPath, '--key', pki.proxyKeyPath];
    const escaped = `X-SSL-Client-Cert: ${encodeURIComponent(pki.clientCertPem)}`;
    const seen = JSON.parse((await runCurl(`${s.url}/c`, [...asProxy, '-H', escaped])).body) as Seen;
    expect(seen.certSource).toBe('proxy-header');
    expect(seen.certDer).toBe(deviceB64());
    const bare = JSON.parse((await runCurl(`${s.url}/c`, asProxy)).body) as Seen;
    expect(bare.certSource).toBeNull();
  });

  it('a malformed header from a trusted proxy gives no certificate and an onError report', async () => {
    const errors: string[] = [];
    const s = await start({ trustedProxies: ['127.0.0.1'], onError: (e) => errors.push(e.code) });
    const seen = JSON.parse(
      (await runCurl(`${s.url}/c`, ['-H', 'Client-Cert: not-a-byte-sequence'])).body,
    ) as Seen;
    expect(seen.certSource).toBeNull();
    expect(errors).toContain('BAD_CLIENT_CERT_HEADER');
  });
});
