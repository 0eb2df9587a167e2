import { randomBytes } from 'node:crypto';
import { installPushCertificate } from '@mdmkit/apns';
import {
  type Certificate,
  createSelfSignedCa,
  createStaticKeyProvider,
  type KeyProvider,
} from '@mdmkit/crypto';
import { type RunningHttpServer, serve } from '@mdmkit/http';
import { createLocalCa, type LocalCa } from '@mdmkit/scep';
import type { MdmStorage } from '@mdmkit/storage';
import { createMockApnsCertificates, type MockApns, startMockApns } from '@mdmkit/testkit/mock-apns';
import type { KeyObject } from 'node:crypto';
import { createMdmServer, type MdmEvent, type MdmServer, type MdmServerOptions } from '../src/index';

/** The public origin written into profiles; requests to it are sent to the local test server. */
export const PUBLIC_ORIGIN = 'https://mdm.test';

export interface Harness {
  storage: MdmStorage;
  keyProvider: KeyProvider;
  scepCa: LocalCa;
  signer: { certificate: Certificate; privateKey: KeyObject };
  mdm: MdmServer;
  http: RunningHttpServer;
  apns: MockApns;
  topic: string;
  events: MdmEvent[];
  /** fetch that maps PUBLIC_ORIGIN to the local server. */
  fetch: typeof fetch;
  /** GETs a fresh enrollment profile. */
  profile(query?: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function startHarness(
  storage: MdmStorage,
  extra: Partial<Omit<MdmServerOptions, 'scep'>> & { scep?: Partial<MdmServerOptions['scep']> } = {},
  serveOptions: Parameters<typeof serve>[1] = {},
  authorize?: (req: import('@mdmkit/http').HttpRequest) => boolean,
): Promise<Harness> {
  const keyProvider = createStaticKeyProvider(new Uint8Array(randomBytes(32)));
  const scepCa = await createLocalCa({ provider: keyProvider, subject: 'CN=mdmkit test identity CA' });
  const signerCa = await createSelfSignedCa({ subject: 'CN=mdmkit test profile signer', validityDays: 30 });
  const signer = { certificate: signerCa.certificate, privateKey: signerCa.privateKey };
  const apnsCerts = await createMockApnsCertificates();
  const push = await apnsCerts.issuePushCertificate();
  await installPushCertificate({
    store: storage,
    keyProvider,
    certificate: push.certPem,
    privateKey: push.keyPem,
  });
  const apns = await startMockApns({ key: apnsCerts.serverKeyPem, cert: apnsCerts.serverCertPem });
  const events: MdmEvent[] = [];
  const mdm = createMdmServer({
    storage,
    keyProvider,
    serverUrl: `${PUBLIC_ORIGIN}/mdm/server`,
    checkInUrl: `${PUBLIC_ORIGIN}/mdm/checkin`,
    topic: push.topic,
    enrollment: { signer, ...(authorize ? { authorize } : {}) },
    apns: { origin: apns.origin, ca: apnsCerts.caPem },
    onEvent: (e) => events.push(e),
    ...extra,
    scep: { ...extra.scep, ca: extra.scep?.ca ?? scepCa.ca },
  });
  const http = await serve(mdm.handler, { port: 0, ...serveOptions });
  const local = http.url.replace(/\/$/, '');
  const mapped: typeof fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return fetch(url.startsWith(PUBLIC_ORIGIN) ? local + url.slice(PUBLIC_ORIGIN.length) : url, init);
  };
  return {
    storage,
    keyProvider,
    scepCa,
    signer,
    mdm,
    http,
    apns,
    topic: push.topic,
    events,
    fetch: mapped,
    async profile(query = '') {
      const res = await mapped(`${PUBLIC_ORIGIN}/mdm/enroll${query}`);
      if (res.status !== 200) throw new Error(`profile: ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    },
    async close() {
      await mdm.close();
      await http.close();
      await apns.close();
    },
  };
}
