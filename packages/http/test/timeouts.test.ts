import { connect as h2connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { HttpError, serve } from '../src/index';
import { have, makePki, rawConnect, untilClosed } from './helpers';

const ok = () => ({ status: 200, body: 'ok' });

describe('server timeouts set by serve()', () => {
  it('a connection that never sends anything is closed after idleTimeoutMs', async () => {
    const running = await serve(ok, {
      idleTimeoutMs: 300,
      headersTimeoutMs: 20_000,
      requestTimeoutMs: 30_000,
    });
    try {
      const { ms } = await untilClosed(await rawConnect(running.port));
      expect(ms).toBeLessThan(2_000);
    } finally {
      await running.close();
    }
  });

  it('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
    const running = await serve(ok, { keepAliveTimeoutMs: 300 });
    try {
      const socket = await rawConnect(running.port);
      const closed = untilClosed(socket);
      socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
      const { text, ms } = await closed;
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      expect(ms).toBeLessThan(2_000);
    } finally {
      await running.close();
    }
  });

  it('an idle HTTP/2 session is closed after idleTimeoutMs', async () => {
    const running = await serve(ok, { http2: true, idleTimeoutMs: 300 });
    try {
      const session = h2connect(running.url);
      session.on('error', () => {});
      const started = Date.now();
      await new Promise<void>((resolve) => session.once('close', () => resolve()));
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await running.close();
    }
  });

  it('an HTTP/2 client that sends its headers slowly is cut off after headersTimeoutMs', async () => {
    const running = await serve(ok, { http2: true, headersTimeoutMs: 300 });
    try {
      const frame = (type: number, flags: number, payload: number[]) => {
        const head = Buffer.alloc(9);
        head.writeUIntBE(payload.length, 0, 3);
        head[3] = type;
        head[4] = flags;
        head.writeUInt32BE(type === 4 ? 0 : 1, 5);
        return Buffer.concat([head, Buffer.from(payload)]);
      };
      const socket = await rawConnect(running.port);
      const closed = untilClosed(socket);
      socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      socket.write(frame(4, 0, []));
      // HEADERS without END_HEADERS (GET / http, :authority a), then one CONTINUATION a second.
      socket.write(frame(1, 0, [0x82, 0x84, 0x86, 0x41, 0x01, 0x61]));
      const drip = setInterval(() => {
        if (!socket.destroyed) socket.write(frame(9, 0, [0x00, 0x03, 0x78, 0x2d, 0x61, 0x01, 0x62]));
      }, 1_000);
      const { ms } = await closed;
      clearInterval(drip);
      expect(ms).toBeLessThan(1_500);
    } finally {
      await running.close();
    }
  });

  it('an HTTP/2 session is closed keepAliveTimeoutMs after its last request', async () => {
    const running = await serve(ok, { http2: true, keepAliveTimeoutMs: 300 });
    try {
      const session = h2connect(running.url);
      session.on('error', () => {});
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.resume();
        req.end();
      });
      expect(status).toBe(200);
      const started = Date.now();
      await new Promise<void>((resolve) => session.once('close', () => resolve()));
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await running.close();
    }
  });

  it.runIf(have.openssl)(
    'HTTP/1.1 on the TLS HTTP/2 server has the same header deadline (slowloris)',
    async () => {
      const pki = makePki();
      const running = await serve(ok, {
        http2: true,
        tls: { key: pki.serverKey, cert: pki.serverCert },
        headersTimeoutMs: 300,
      });
      try {
        const socket = tlsConnect({
          port: running.port,
          host: '127.0.0.1',
          ca: pki.caPem,
          ALPNProtocols: ['http/1.1'],
        });
        await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
        expect(socket.alpnProtocol).toBe('http/1.1');
        const closed = untilClosed(socket as unknown as Parameters<typeof untilClosed>[0]);
        socket.write('GET / HTTP/1.1\r\nHost: t\r\n');
        const drip = setInterval(() => {
          if (!socket.destroyed) socket.write('x-a: b\r\n');
        }, 100);
        const { ms } = await closed;
        clearInterval(drip);
        expect(ms).toBeLessThan(1_500);
      } finally {
        await running.close();
        pki.cleanup();
      }
    },
  );

  it('bad timeouts are INVALID_OPTIONS', async () => {
    await expect(serve(ok, { headersTimeoutMs: 0 })).rejects.toThrow(HttpError);
    await expect(serve(ok, { idleTimeoutMs: 1.5 })).rejects.toThrow(/idleTimeoutMs/);
  });
});
