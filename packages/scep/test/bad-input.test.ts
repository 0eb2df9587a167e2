import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSelfSignedCa, generateKeyPair, issueCertificate } from '@mdmkit/crypto';
import { MemoryStorage } from '@mdmkit/storage';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createScepPolicy,
  createScepServer,
  FailInfo,
  oneTimeChallenges,
  PkiStatus,
  type ScepServer,
  staticChallenge,
  toNodeListener,
} from '../src/index';
import { CHALLENGE, testCa } from './helpers';
import { envelopeRegions, makeRequest, post } from './pki';
import { verifyPkiMessage } from '../src/attributes';

describe('bad input never crashes and never issues', () => {
  let scep: ScepServer;
  let store: MemoryStorage;
  let issued = 0;
  const errors: unknown[] = [];
  beforeAll(async () => {
    store = new MemoryStorage();
    scep = createScepServer({
      ca: await testCa(),
      store,
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
      onEvent: (e) => {
        if (e.type === 'issued') issued++;
        if (e.type === 'error') errors.push(e.error);
      },
    });
  });
  afterAll(() => {
    expect(errors).toEqual([]);
  });

  const op = (body: Uint8Array) =>
    scep.handle({ method: 'POST', query: new URLSearchParams('operation=PKIOperation'), body });

  it('garbage and truncated DER get HTTP 400', async () => {
    expect((await op(new TextEncoder().encode('hello'))).status).toBe(400);
    expect((await op(new Uint8Array([0x30, 0x82, 0xff, 0xff, 0x01]))).status).toBe(400);
    const ca = await testCa();
    const good = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE });
    for (const cut of [1, 10, good.der.length >> 1, good.der.length - 1]) {
      expect((await op(good.der.subarray(0, cut))).status).toBe(400);
    }
    expect(issued).toBe(0);
  });

  it('a pkiMessage encrypted to another CA gets badMessageCheck', async () => {
    const other = await createSelfSignedCa({
      subject: 'CN=other CA',
      key: await generateKeyPair({ type: 'rsa', bits: 2048 }),
    });
    const r = await post(scep, await makeRequest({ recipient: other.certificate, challenge: CHALLENGE }));
    expect(r.status).toBe(PkiStatus.FAILURE);
    expect(r.failInfo).toBe(FailInfo.badMessageCheck);
    expect(r.certificates).toBeUndefined();
  });

  it('tampered ciphertext gets the same badMessageCheck', async () => {
    const ca = await testCa();
    const r = await post(
      scep,
      await makeRequest({
        recipient: ca.certificate,
        challenge: CHALLENGE,
        mutateEnvelope: (env) => {
          const copy = env.slice();
          copy[copy.length - 3]! ^= 0x55;
          return copy;
        },
      }),
    );
    expect(r.failInfo).toBe(FailInfo.badMessageCheck);
  });

  it('an unsupported digest or a non-RSA signer gets badAlg', async () => {
    const ca = await testCa();
    const r = await post(
      scep,
      await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE, hash: 'sha384' }),
    );
    expect(r.failInfo).toBe(FailInfo.badAlg);
    const ec = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    const ecCert = await issueCertificate({
      subject: 'CN=ec',
      publicKey: ec.publicKey,
      issuerKey: ec.privateKey,
    });
    const r2 = await post(
      scep,
      await makeRequest({
        recipient: ca.certificate,
        challenge: CHALLENGE,
        signer: { certificate: ecCert, privateKey: ec.privateKey },
      }),
    );
    expect(r2.failInfo).toBe(FailInfo.badAlg);
  });

  it('a CSR whose signature fails gets badMessageCheck', async () => {
    const ca = await testCa();
    const r = await post(
      scep,
      await makeRequest({
        recipient: ca.certificate,
        challenge: CHALLENGE,
        mutateCsr: (csr) => {
          const copy = csr.slice();
          copy[copy.length - 1]! ^= 0x01;
          return copy;
        },
      }),
    );
    expect(r.status).toBe(PkiStatus.FAILURE);
    expect(r.failInfo).toBe(FailInfo.badMessageCheck);
  });

  it('a replayed senderNonce is refused; a repeated transactionID with a new nonce is not', async () => {
    const ca = await testCa();
    const req = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE });
    const before = issued;
    expect((await post(scep, req)).status).toBe(PkiStatus.SUCCESS);
    const again = await post(scep, req);
    expect(again.status).toBe(PkiStatus.FAILURE);
    expect(again.failInfo).toBe(FailInfo.badRequest);
    expect(issued).toBe(before + 1);
    const sameTransaction = await makeRequest({
      recipient: ca.certificate,
      challenge: CHALLENGE,
      transactionId: req.transactionId,
    });
    expect((await post(scep, sameTransaction)).status).toBe(PkiStatus.SUCCESS);
  });

  it('missing SCEP attributes get HTTP 400; an unknown messageType gets badRequest', async () => {
    const ca = await testCa();
    const noNonce = await makeRequest({
      recipient: ca.certificate,
      challenge: CHALLENGE,
      omit: ['2.16.840.1.113733.1.9.5'],
    });
    expect((await op(noNonce.der)).status).toBe(400);
    const r = await post(
      scep,
      await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE, messageType: '99' }),
    );
    expect(r.failInfo).toBe(FailInfo.badRequest);
  });

  it('a signingTime too far from the clock gets badTime when a skew limit is set', async () => {
    const ca = await testCa();
    const skewed = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
      maxClockSkewSeconds: 300,
      now: () => new Date(Date.now() + 3600_000),
    });
    const r = await post(skewed, await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE }));
    expect(r.failInfo).toBe(FailInfo.badTime);
  });

  it('keys outside the policy are refused', async () => {
    const ca = await testCa();
    const strict = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({
        challenge: staticChallenge(CHALLENGE),
        keys: [{ type: 'rsa', sizes: [4096] }],
      }),
    });
    const r = await post(strict, await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE }));
    expect(r.failInfo).toBe(FailInfo.badRequest);
  });

  it('a one-time challenge works once', async () => {
    const ca = await testCa();
    const oneTimeStore = new MemoryStorage();
    const challenges = oneTimeChallenges(oneTimeStore, { ttlSeconds: 60 });
    const s = createScepServer({
      ca,
      store: oneTimeStore,
      policy: createScepPolicy({ challenge: challenges.verify }),
    });
    const c = await challenges.issue();
    expect(c).toMatch(/^[A-Z2-7]{32}$/);
    expect((await post(s, await makeRequest({ recipient: ca.certificate, challenge: c }))).status).toBe(
      PkiStatus.SUCCESS,
    );
    const second = await post(s, await makeRequest({ recipient: ca.certificate, challenge: c, keyIndex: 1 }));
    expect(second.failInfo).toBe(FailInfo.badRequest);
  });

  it('an expired one-time challenge is refused', async () => {
    const ca = await testCa();
    let clock = Date.now();
    const oneTimeStore = new MemoryStorage();
    const challenges = oneTimeChallenges(oneTimeStore, { ttlSeconds: 60, now: () => new Date(clock) });
    const s = createScepServer({
      ca,
      store: oneTimeStore,
      policy: createScepPolicy({ challenge: challenges.verify }),
    });
    const c = await challenges.issue();
    clock += 61_000;
    const r = await post(s, await makeRequest({ recipient: ca.certificate, challenge: c }));
    expect(r.failInfo).toBe(FailInfo.badRequest);
  });

  it('oversize bodies get 413 (node adapter and fetch handler), and bad HTTP gets 4xx', async () => {
    const small = createScepServer({
      ca: await testCa(),
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
      maxBodyBytes: 4096,
    });
    const server = createServer(toNodeListener(small, { path: '/scep' }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const big = new Uint8Array(1024 * 1024);
      const res = await fetch(`${base}/scep?operation=PKIOperation`, { method: 'POST', body: big });
      expect(res.status).toBe(413);
      expect((await fetch(`${base}/other?operation=GetCACaps`)).status).toBe(404);
      expect((await fetch(`${base}/scep?operation=Nope`)).status).toBe(400);
      expect((await fetch(`${base}/scep`)).status).toBe(400);
      expect((await fetch(`${base}/scep?operation=GetCACaps`, { method: 'PUT' })).status).toBe(405);
      expect((await fetch(`${base}/scep?operation=PKIOperation&message=***`)).status).toBe(400);
      expect((await fetch(`${base}/scep?operation=PKIOperation&message=${'A'.repeat(8_000)}`)).status).toBe(
        413,
      );
      const viaFetch = await small.fetch(
        new Request('http://x/scep?operation=PKIOperation', { method: 'POST', body: big }),
      );
      expect(viaFetch.status).toBe(413);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });

  it('a full replay store turns new requests away with 503 and still refuses replays', async () => {
    const ca = await testCa();
    const events: string[] = [];
    const small = createScepServer({
      ca,
      store: new MemoryStorage({ limits: { maxSenderNonces: 2 } }),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
      onEvent: (e) => events.push(e.type),
    });
    const first = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE });
    expect((await post(small, first)).status).toBe(PkiStatus.SUCCESS);
    expect(
      (await post(small, await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE }))).status,
    ).toBe(PkiStatus.SUCCESS);
    const third = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE });
    const res = await small.fetch(
      new Request('http://x/scep?operation=PKIOperation', { method: 'POST', body: third.der }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('60');
    const replay = await post(small, first);
    expect(replay.status).toBe(PkiStatus.FAILURE);
    expect(replay.failInfo).toBe(FailInfo.badRequest);
    expect(events).not.toContain('error');
  });

  it('random mutations of the envelope, each with a fresh nonce, always fail the same way', async () => {
    const ca = await testCa();
    const runs = Number(process.env.MDMKIT_FUZZ_RUNS ?? 150);
    const template = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE, keyIndex: 2 });
    const envelope = (await verifyPkiMessage(template.der)).content;
    const regions = envelopeRegions(envelope);
    const before = issued;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('encryptedKey', 'iv', 'ciphertext'),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('19', '17', '20', '21'),
        async (where, flips, messageType) => {
          const { start, end } = regions[where as keyof typeof regions];
          const env = envelope.slice();
          for (const [i, x] of flips) env[start + (i % (end - start))]! ^= x;
          // makeRequest signs every case afresh with a new senderNonce, so none is refused as a replay.
          const r = await post(
            scep,
            await makeRequest({ recipient: ca.certificate, envelope: env, messageType, keyIndex: 2 }),
          );
          expect(r.http).toBe(200);
          expect(r.status).toBe(PkiStatus.FAILURE);
          expect(r.failInfo).toBe(FailInfo.badMessageCheck);
          expect(r.certificates).toBeUndefined();
        },
      ),
      { numRuns: runs },
    );
    expect(issued).toBe(before);
  });

  it('random mutations of a whole request, each with a fresh nonce, never crash and never issue to a stranger', async () => {
    const ca = await testCa();
    const runs = Number(process.env.MDMKIT_FUZZ_RUNS ?? 150);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        async (flips) => {
          const good = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE, keyIndex: 2 });
          const copy = good.der.slice();
          for (const [i, x] of flips) copy[i % copy.length]! ^= x;
          const r = await post(scep, { der: copy, signer: good.signer });
          expect([200, 400]).toContain(r.http);
          if (r.http !== 200) return;
          // A flip in a field nothing reads (e.g. the self-signed certificate's own signature) may
          // still be a valid request; anything issued must then be for the requester's own key.
          expect([PkiStatus.FAILURE, PkiStatus.SUCCESS]).toContain(r.status);
          if (r.status === PkiStatus.SUCCESS) {
            expect(r.certificates?.[0]?.spki).toEqual(good.signer.certificate.spki);
          } else {
            expect(r.certificates).toBeUndefined();
          }
        },
      ),
      { numRuns: runs },
    );
  });
});
