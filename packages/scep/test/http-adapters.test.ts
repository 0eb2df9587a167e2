import { connect } from 'node:http2';
import { MemoryStorage } from '@mdmkit/storage';
import { createRouter, serve } from '@mdmkit/http';
import { describe, expect, it } from 'vitest';
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
});
