import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSelfSignedCa, generateKeyPair } from '@mdmkit/crypto';
import { MemoryStorage } from '@mdmkit/storage';
import {
  createScepPolicy,
  createScepServer,
  type ScepCa,
  type ScepPolicyOptions,
  type ScepServer,
  type ScepServerOptions,
  staticChallenge,
  toNodeListener,
} from '../src/index';

export const CHALLENGE = 'test-challenge-secret';

let cachedCa: Promise<ScepCa> | undefined;
/** One RSA-2048 CA shared by the tests in a file (key generation is the slow part). */
export function testCa(): Promise<ScepCa> {
  cachedCa ??= (async () => {
    const key = await generateKeyPair({ type: 'rsa', bits: 2048 });
    const { certificate, privateKey } = await createSelfSignedCa({
      subject: 'CN=mdmkit test CA,O=mdmkit',
      key,
    });
    return { certificate, signer: privateKey };
  })();
  return cachedCa;
}

export interface TestServer {
  url: string;
  scep: ScepServer;
  store: MemoryStorage;
  server: Server;
  close(): Promise<void>;
}

export async function startTestServer(
  opts: { policy?: ScepPolicyOptions; server?: Partial<ScepServerOptions>; ca?: ScepCa } = {},
): Promise<TestServer> {
  const ca = opts.ca ?? (await testCa());
  const store = new MemoryStorage();
  const scep = createScepServer({
    ca,
    store,
    policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE), ...opts.policy }),
    ...opts.server,
  });
  const server = createServer(toNodeListener(scep, { path: '/scep' }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/scep`,
    scep,
    store,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
