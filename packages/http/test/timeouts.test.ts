import { connect as h2connect } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { HttpError, serve } from '../src/index';
import { rawConnect, untilClosed } from './helpers';

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

  it('bad timeouts are INVALID_OPTIONS', async () => {
    await expect(serve(ok, { headersTimeoutMs: 0 })).rejects.toThrow(HttpError);
    await expect(serve(ok, { idleTimeoutMs: 1.5 })).rejects.toThrow(/idleTimeoutMs/);
  });
});
