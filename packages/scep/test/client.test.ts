import { createSelfSignedCa, generateKeyPair, issueCertificate, parseCertsOnlyCms } from '@mdmkit/crypto';
import { MemoryStorage } from '@mdmkit/storage';
import { describe, expect, it } from 'vitest';
import {
  ContentType,
  createLocalCa,
  createScepPolicy,
  createScepServer,
  openLocalCa,
  ScepClient,
  ScepError,
  staticChallenge,
} from '../src/index';
import { CHALLENGE, testCa } from './helpers';

/** A fetch that calls the handler directly and records what was asked. */
function directFetch(scep: { fetch: (r: Request) => Promise<Response> }, seen: string[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const req = new Request(input, init);
    seen.push(`${req.method} ${new URL(req.url).searchParams.get('operation')}`);
    return scep.fetch(req);
  }) as typeof fetch;
}

describe('GetCACert and the client', () => {
  it('serves CA + RA as a degenerate PKCS#7 and the client encrypts to the RA', async () => {
    const ca = await testCa();
    const raKey = await generateKeyPair({ type: 'rsa', bits: 2048 });
    const raCert = await issueCertificate({
      subject: 'CN=mdmkit test RA',
      publicKey: raKey.publicKey,
      issuer: ca.certificate,
      issuerKey: ca.signer,
      keyUsage: ['digitalSignature', 'keyEncipherment'],
    });
    const scep = createScepServer({
      ca: { ...ca, ra: { certificate: raCert, privateKey: raKey.privateKey } },
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    const res = await scep.fetch(new Request('http://x/scep?operation=GetCACert'));
    expect(res.headers.get('content-type')).toBe(ContentType.caRaCert);
    const certs = parseCertsOnlyCms(new Uint8Array(await res.arrayBuffer()));
    expect(certs.map((c) => c.subject.get('CN'))).toEqual(['mdmkit test CA', 'mdmkit test RA']);

    const client = new ScepClient({
      url: 'http://x/scep',
      fetch: directFetch(scep),
      caFingerprint: ca.certificate.fingerprintSha256.toUpperCase().replace(/(..)(?!$)/g, '$1:'),
    });
    const got = await client.getCaCertificates();
    expect(got.recipient.subject.get('CN')).toBe('mdmkit test RA');
    const r = await client.enroll({ subject: 'CN=ra-device', challenge: CHALLENGE });
    expect(r.certificate.issuer.get('CN')).toBe('mdmkit test CA');
  });

  it('serves the CA alone as application/x-x509-ca-cert', async () => {
    const ca = await testCa();
    const scep = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    const res = await scep.fetch(new Request('http://x/scep?operation=GetCACert'));
    expect(res.headers.get('content-type')).toBe(ContentType.caCert);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from(ca.certificate.der));
  });

  it('uses GET PKIOperation when POSTPKIOperation is not advertised, and honours configured caps', async () => {
    const ca = await testCa();
    const scep = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
      capabilities: ['DES3', 'SHA-1'],
    });
    const seen: string[] = [];
    const client = new ScepClient({ url: 'http://x/scep', fetch: directFetch(scep, seen) });
    expect(await client.getCaCaps()).toEqual(['DES3', 'SHA-1']);
    const r = await client.enroll({ subject: 'CN=get-device', challenge: CHALLENGE });
    expect(r.certificate.subject.get('CN')).toBe('get-device');
    expect(seen).toContain('GET PKIOperation');
    expect(seen).not.toContain('POST PKIOperation');
  });

  it('refuses a CA that does not match the pinned fingerprint', async () => {
    const ca = await testCa();
    const scep = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    const client = new ScepClient({
      url: 'http://x/scep',
      fetch: directFetch(scep),
      caFingerprint: 'ab'.repeat(32),
    });
    await expect(client.enroll({ subject: 'CN=x', challenge: CHALLENGE })).rejects.toMatchObject({
      code: 'FINGERPRINT_MISMATCH',
    });
    expect(() => new ScepClient({ url: 'http://x/', caFingerprint: 'xyz' })).toThrow(ScepError);
  });

  it('polls a PENDING request until it is issued', async () => {
    const ca = await testCa();
    let polls = 0;
    const scep = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({
        challenge: staticChallenge(CHALLENGE),
        approve: async () => ({ action: 'pending' }),
        poll: async (_req, template) =>
          ++polls >= 2 ? { action: 'issue', template } : { action: 'pending' },
      }),
    });
    const client = new ScepClient({ url: 'http://x/scep', fetch: directFetch(scep) });
    const r = await client.enroll({
      subject: 'CN=pending-device',
      challenge: CHALLENGE,
      poll: { intervalMs: 10, maxAttempts: 5 },
    });
    expect(r.polls).toBe(2);
    expect(r.certificate.subject.get('CN')).toBe('pending-device');
    const gaveUp = await client
      .enroll({ subject: 'CN=never', challenge: CHALLENGE, poll: { intervalMs: 1, maxAttempts: 0 } })
      .catch((e) => e);
    // polls is now past 2, so a new request is approved at its first poll; with no polls allowed it times out.
    expect(gaveUp).toMatchObject({ code: 'PENDING_TIMEOUT' });
  });

  it('GetNextCACert returns the next CA signed by the current one', async () => {
    const ca = await testCa();
    const next = await createSelfSignedCa({
      subject: 'CN=next CA',
      key: await generateKeyPair({ type: 'rsa', bits: 2048 }),
    });
    const scep = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
      nextCa: { certificate: next.certificate },
    });
    const caps = await (await scep.fetch(new Request('http://x/scep?operation=GetCACaps'))).text();
    expect(caps).toContain('GetNextCACert');
    const res = await scep.fetch(new Request('http://x/scep?operation=GetNextCACert'));
    expect(res.headers.get('content-type')).toBe(ContentType.nextCaCert);
    const { verifyCms } = await import('@mdmkit/crypto');
    const v = await verifyCms(new Uint8Array(await res.arrayBuffer()));
    expect(v.signer.fingerprintSha256).toBe(ca.certificate.fingerprintSha256);
    expect(parseCertsOnlyCms(v.content)[0]!.subject.get('CN')).toBe('next CA');
  });

  it('a local CA sealed through a key provider reopens and issues', async () => {
    const { createStaticKeyProvider } = await import('@mdmkit/crypto');
    const provider = createStaticKeyProvider(new Uint8Array(32).fill(7));
    const created = await createLocalCa({ provider, subject: 'CN=sealed CA' });
    expect(Buffer.from(created.sealedKey).includes(Buffer.from('PRIVATE KEY'))).toBe(false);
    const opened = await openLocalCa({
      certificate: created.certificate,
      sealedKey: created.sealedKey,
      provider,
    });
    const scep = createScepServer({
      ca: opened,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    const client = new ScepClient({ url: 'http://x/scep', fetch: directFetch(scep) });
    const r = await client.enroll({ subject: 'CN=sealed-device', challenge: CHALLENGE });
    expect(r.certificate.issuer.get('CN')).toBe('sealed CA');
    const wrong = createStaticKeyProvider(new Uint8Array(32).fill(8));
    await expect(
      openLocalCa({ certificate: created.certificate, sealedKey: created.sealedKey, provider: wrong }),
    ).rejects.toBeDefined();
  });

  it('a CA key behind an async Signer works with an RA', async () => {
    const ca = await testCa();
    const calls: string[] = [];
    const { sign, createPublicKey } = await import('node:crypto');
    const key = ca.signer as import('node:crypto').KeyObject;
    const hsm = {
      publicKey: createPublicKey(key),
      async sign(data: Uint8Array, hash: string) {
        calls.push(hash);
        return new Uint8Array(sign(hash, data, key));
      },
    };
    const raKey = await generateKeyPair({ type: 'rsa', bits: 2048 });
    const raCert = await issueCertificate({
      subject: 'CN=RA',
      publicKey: raKey.publicKey,
      issuer: ca.certificate,
      issuerKey: key,
    });
    expect(() =>
      createScepServer({
        ca: { certificate: ca.certificate, signer: hsm },
        store: new MemoryStorage(),
        policy: createScepPolicy({}),
      }),
    ).toThrow(ScepError);
    const scep = createScepServer({
      ca: {
        certificate: ca.certificate,
        signer: hsm,
        ra: { certificate: raCert, privateKey: raKey.privateKey },
      },
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    const r = await new ScepClient({ url: 'http://x/scep', fetch: directFetch(scep) }).enroll({
      subject: 'CN=hsm-device',
      challenge: CHALLENGE,
    });
    expect(r.certificate.issuer.get('CN')).toBe('mdmkit test CA');
    expect(calls).toEqual(['sha256']);
  });
});
