import type { KeyObject } from 'node:crypto';
import {
  type Certificate,
  createCertsOnlyCms,
  createSelfSignedCa,
  decryptCms,
  octetStringAttribute,
  printableStringAttribute,
  encryptCms,
  issueCertificate,
  type KeyUsageName,
  signCms,
} from '@mdmkit/crypto';
import { MemoryStorage } from '@mdmkit/storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { readScepAttributes, verifyPkiMessage } from '../src/attributes';
import {
  ContentType,
  createScepPolicy,
  createScepServer,
  type ScepCa,
  ScepClient,
  ScepError,
  ScepOid,
  type ScepServer,
  staticChallenge,
} from '../src/index';
import { CHALLENGE, testCa } from './helpers';
import { poolKey } from './pki';

interface Party {
  certificate: Certificate;
  privateKey: KeyObject;
}

async function leaf(issuer: Party, cn: string, keyUsage: KeyUsageName[], keyIndex: number): Promise<Party> {
  const k = await poolKey(keyIndex);
  const certificate = await issueCertificate({
    subject: `CN=${cn}`,
    publicKey: k.publicKey,
    issuer: issuer.certificate,
    issuerKey: issuer.privateKey,
    keyUsage,
  });
  return { certificate, privateKey: k.privateKey };
}

/**
 * A man in the middle: answers GetCACert with its own list and sends PKIOperation wherever it likes
 * (or answers it itself), counting what it receives.
 */
function mitm(opts: {
  caCerts: Certificate[];
  caps: ScepServer;
  pkiOperation: (req: Request) => Promise<Response>;
}): { fetch: typeof fetch; pkiOperations: number } {
  const state = { pkiOperations: 0, fetch: undefined as unknown as typeof fetch };
  state.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const req = new Request(input, init);
    const op = new URL(req.url).searchParams.get('operation');
    if (op === 'GetCACert') {
      return new Response(createCertsOnlyCms(opts.caCerts), {
        headers: { 'content-type': ContentType.caRaCert },
      });
    }
    if (op === 'PKIOperation') {
      state.pkiOperations++;
      return opts.pkiOperation(req);
    }
    return opts.caps.fetch(req);
  }) as typeof fetch;
  return state;
}

describe('a pinned client trusts only what chains to the pinned CA', () => {
  let real: Party;
  let evilCa: Party;
  let realServer: ScepServer;
  const pinned = () => real.certificate.fingerprintSha256;

  beforeAll(async () => {
    const ca = await testCa();
    real = { certificate: ca.certificate, privateKey: ca.signer as KeyObject };
    const k = await poolKey(4);
    evilCa = { ...(await createSelfSignedCa({ subject: 'CN=evil CA', key: k })) };
    realServer = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
  });

  it('never encrypts the challenge to an RA of another CA listed beside the pinned one', async () => {
    const evilRa = await leaf(evilCa, 'evil RA', ['digitalSignature', 'keyEncipherment'], 5);
    const challenges: string[] = [];
    const evilServer = createScepServer({
      ca: { certificate: evilCa.certificate, signer: evilCa.privateKey, ra: evilRa },
      store: new MemoryStorage(),
      policy: createScepPolicy({
        challenge: async (c) => {
          challenges.push(c ?? '');
          return true;
        },
      }),
    });
    const m = mitm({
      caCerts: [evilCa.certificate, evilRa.certificate, real.certificate],
      caps: realServer,
      pkiOperation: (req) => evilServer.fetch(req),
    });
    const client = new ScepClient({ url: 'http://scep.test/scep', fetch: m.fetch, caFingerprint: pinned() });
    const err = await client.enroll({ subject: 'CN=victim', challenge: CHALLENGE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScepError);
    // Encrypted to the pinned CA itself, the request is useless to the evil server: no challenge leaks.
    expect(challenges).toEqual([]);
    expect((err as ScepError).code).toBe('UNTRUSTED_RESPONSE');
    // The client encrypts to the pinned CA, never to the evil RA.
    expect((await client.getCaCertificates()).recipient.fingerprintSha256).toBe(pinned());
  });

  it('refuses a CertRep signed by a listed certificate that does not chain to the pinned CA', async () => {
    const evilSigner = await leaf(evilCa, 'evil signer', ['digitalSignature'], 5);
    // The man in the middle answers every request itself: a SUCCESS with a certificate from the evil CA.
    const forge = async (req: Request) => {
      const v = await verifyPkiMessage(new Uint8Array(await req.arrayBuffer()));
      const a = readScepAttributes(v.signedAttributes)!;
      const issued = await issueCertificate({
        subject: 'CN=victim',
        publicKey: v.signer.publicKey,
        issuer: evilCa.certificate,
        issuerKey: evilCa.privateKey,
      });
      const envelope = await encryptCms({
        content: createCertsOnlyCms([issued]),
        recipients: [v.signer],
        cipher: 'aes-128-cbc',
      });
      const der = await signCms({
        content: envelope,
        certificate: evilSigner.certificate,
        privateKey: evilSigner.privateKey,
        hash: 'sha256',
        certificates: [evilSigner.certificate],
        signedAttributes: [
          printableStringAttribute(ScepOid.messageType, '3'),
          printableStringAttribute(ScepOid.pkiStatus, '0'),
          { oid: ScepOid.transactionID, values: [a.transactionIdDer] },
          octetStringAttribute(ScepOid.recipientNonce, a.senderNonce),
          octetStringAttribute(ScepOid.senderNonce, new Uint8Array(16).fill(7)),
        ],
      });
      return new Response(der, { headers: { 'content-type': ContentType.pkiMessage } });
    };
    const m = mitm({
      caCerts: [real.certificate, evilSigner.certificate],
      caps: realServer,
      pkiOperation: forge,
    });
    const client = new ScepClient({ url: 'http://scep.test/scep', fetch: m.fetch, caFingerprint: pinned() });
    const err = await client.enroll({ subject: 'CN=victim', challenge: CHALLENGE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScepError);
    expect((err as ScepError).code).toBe('UNTRUSTED_RESPONSE');
  });

  it('refuses an issued certificate that does not chain to the pinned CA, even from a genuine RA', async () => {
    // A server whose RA chains to the pinned CA but which issues from another CA.
    const ra = await leaf(real, 'real RA', ['digitalSignature', 'keyEncipherment'], 5);
    const rogue: ScepCa = { certificate: evilCa.certificate, signer: evilCa.privateKey, ra };
    const rogueServer = createScepServer({
      ca: rogue,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    const m = mitm({
      caCerts: [evilCa.certificate, ra.certificate, real.certificate],
      caps: realServer,
      pkiOperation: (req) => rogueServer.fetch(req),
    });
    const client = new ScepClient({ url: 'http://scep.test/scep', fetch: m.fetch, caFingerprint: pinned() });
    const err = await client.enroll({ subject: 'CN=victim', challenge: CHALLENGE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScepError);
    expect((err as ScepError).code).toBe('UNTRUSTED_RESPONSE');
  });

  it("never encrypts the challenge to another client's certificate from the same CA", async () => {
    // Any enrolled client holds a certificate from the pinned CA that allows keyEncipherment (the
    // default template) and the key for it; listed as an "RA" by a man in the middle, it must not
    // receive the next client's challenge.
    const ca = await testCa();
    const k = await poolKey(7);
    const insider = await new ScepClient({
      url: 'http://scep.test/scep',
      fetch: ((input: string | URL | Request, init?: RequestInit) =>
        realServer.fetch(new Request(input, init))) as typeof fetch,
      caFingerprint: pinned(),
    }).enroll({ subject: 'CN=insider', challenge: CHALLENGE, ...k });
    expect(insider.certificate.issuer.get('CN')).toBe(ca.certificate.subject.get('CN'));
    const leaked: string[] = [];
    const m = mitm({
      caCerts: [real.certificate, insider.certificate],
      caps: realServer,
      pkiOperation: async (req) => {
        const body = new Uint8Array(await req.clone().arrayBuffer());
        const v = await verifyPkiMessage(body);
        try {
          await decryptCms(v.content, {
            recipients: [{ certificate: insider.certificate, privateKey: k.privateKey }],
          });
          leaked.push('opened');
        } catch {
          // Not for the insider's key.
        }
        return realServer.fetch(req);
      },
    });
    const client = new ScepClient({ url: 'http://scep.test/scep', fetch: m.fetch, caFingerprint: pinned() });
    expect((await client.getCaCertificates()).recipient.fingerprintSha256).toBe(pinned());
    await client.enroll({ subject: 'CN=victim', challenge: CHALLENGE }).catch(() => undefined);
    expect(leaked).toEqual([]);
  });

  it('pinned to a root, enrolls with the intermediate CA that issues', async () => {
    const ik = await poolKey(6);
    const issuing = await issueCertificate({
      subject: 'CN=issuing CA',
      publicKey: ik.publicKey,
      issuer: real.certificate,
      issuerKey: real.privateKey,
      isCA: true,
      keyUsage: ['keyCertSign', 'cRLSign'],
    });
    const server = createScepServer({
      ca: { certificate: issuing, signer: ik.privateKey, chain: [real.certificate] },
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    const client = new ScepClient({
      url: 'http://scep.test/scep',
      fetch: ((input: string | URL | Request, init?: RequestInit) =>
        server.fetch(new Request(input, init))) as typeof fetch,
      caFingerprint: pinned(),
    });
    expect((await client.getCaCertificates()).recipient.fingerprintSha256).toBe(issuing.fingerprintSha256);
    const r = await client.enroll({ subject: 'CN=behind-intermediate', challenge: CHALLENGE });
    expect(r.certificate.issuer.get('CN')).toBe('issuing CA');
  });

  it('enrolls through separate encryption and signing RA certificates (as NDES serves them)', async () => {
    const encryption = await leaf(real, 'RA encryption', ['keyEncipherment'], 5);
    const signing = await leaf(real, 'RA signing', ['digitalSignature'], 6);
    const ca = await testCa();
    const server = createScepServer({
      ca: { ...ca, ra: { ...encryption, signing } },
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    const client = new ScepClient({
      url: 'http://scep.test/scep',
      fetch: ((input: string | URL | Request, init?: RequestInit) =>
        server.fetch(new Request(input, init))) as typeof fetch,
      caFingerprint: pinned(),
    });
    const cas = await client.getCaCertificates();
    expect(cas.certificates.map((c) => c.subject.get('CN'))).toEqual([
      'mdmkit test CA',
      'RA encryption',
      'RA signing',
    ]);
    expect(cas.recipient.subject.get('CN')).toBe('RA encryption');
    const r = await client.enroll({ subject: 'CN=ndes-device', challenge: CHALLENGE });
    expect(r.certificate.issuer.get('CN')).toBe('mdmkit test CA');
  });
});
