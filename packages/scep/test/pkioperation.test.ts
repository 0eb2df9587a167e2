import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsr, type ContentCipher, exportPrivateKey } from '@mdmkit/crypto';
import { MemoryStorage } from '@mdmkit/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createScepPolicy,
  createScepServer,
  FailInfo,
  PkiStatus,
  type ScepServer,
  staticChallenge,
} from '../src/index';
import { CHALLENGE, testCa } from './helpers';
import { makeRequest, poolKey, post } from './pki';

describe('PKIOperation', () => {
  let scep: ScepServer;
  let store: MemoryStorage;
  beforeAll(async () => {
    store = new MemoryStorage();
    scep = createScepServer({
      ca: await testCa(),
      store,
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
  });

  const ciphers: ContentCipher[] = ['aes-128-cbc', 'aes-192-cbc', 'aes-256-cbc', 'des-ede3-cbc'];
  for (const cipher of ciphers) {
    it(`accepts ${cipher} content and answers with the same cipher`, async () => {
      const ca = await testCa();
      const req = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE, cipher });
      const r = await post(scep, req);
      expect(r.status).toBe(PkiStatus.SUCCESS);
      expect(r.cipher).toBe(cipher);
      expect(Buffer.from(r.recipientNonce!)).toEqual(Buffer.from(req.senderNonce));
      expect(r.transactionId).toBe(req.transactionId);
      expect(r.certificates).toHaveLength(1);
      expect(r.certificates![0]!.issuer.toString()).toBe(ca.certificate.subject.toString());
    });
  }

  for (const hash of ['sha1', 'sha256', 'sha512'] as const) {
    it(`accepts ${hash} signatures`, async () => {
      const ca = await testCa();
      const r = await post(
        scep,
        await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE, hash }),
      );
      expect(r.status).toBe(PkiStatus.SUCCESS);
    });
  }

  it('answers a single-DES request (built by openssl) with DES3', async (ctx) => {
    const ca = await testCa();
    const dir = mkdtempSync(join(tmpdir(), 'mdmkit-scep-des-'));
    try {
      const { privateKey, publicKey } = await poolKey(1);
      const csr = await createCsr({
        subject: 'CN=des-device',
        privateKey,
        publicKey,
        challengePassword: CHALLENGE,
      });
      writeFileSync(join(dir, 'csr.der'), csr);
      writeFileSync(join(dir, 'ca.pem'), ca.certificate.pem);
      const enc = spawnSync(
        'openssl',
        [
          'cms',
          '-encrypt',
          '-provider',
          'legacy',
          '-provider',
          'default',
          '-des',
          '-binary',
          '-outform',
          'DER',
          '-in',
          join(dir, 'csr.der'),
          '-out',
          join(dir, 'env.der'),
          join(dir, 'ca.pem'),
        ],
        { encoding: 'utf8' },
      );
      if (enc.status !== 0) {
        console.warn(
          `SKIPPED single-DES request: openssl cannot encrypt with DES here (${enc.stderr.trim()})`,
        );
        ctx.skip();
        return;
      }
      const req = await makeRequest({
        recipient: ca.certificate,
        keyIndex: 1,
        subject: 'CN=des-device',
        envelope: new Uint8Array(readFileSync(join(dir, 'env.der'))),
        hash: 'sha1',
      });
      const r = await post(scep, req);
      expect(r.status).toBe(PkiStatus.SUCCESS);
      expect(r.cipher).toBe('des-ede3-cbc');
      expect(r.certificates![0]!.subject.get('CN')).toBe('des-device');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves PKIOperation by GET with a URL-escaped base64 message', async () => {
    const ca = await testCa();
    const req = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE });
    const b64 = Buffer.from(req.der).toString('base64');
    const res = await scep.fetch(
      new Request(`http://scep.test/scep?operation=PKIOperation&message=${encodeURIComponent(b64)}`),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-pki-message');
    const { decodeReply } = await import('./pki');
    const r = await decodeReply(200, new Uint8Array(await res.arrayBuffer()), req.signer);
    expect(r.status).toBe(PkiStatus.SUCCESS);

    // A client that leaves '+' unescaped: it arrives as a space and still decodes.
    const req2 = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE });
    const raw = Buffer.from(req2.der).toString('base64').replace(/\//g, '%2F').replace(/=/g, '%3D');
    const res2 = await scep.fetch(new Request(`http://scep.test/scep?operation=PKIOperation&message=${raw}`));
    const r2 = await decodeReply(200, new Uint8Array(await res2.arrayBuffer()), req2.signer);
    expect(r2.status).toBe(PkiStatus.SUCCESS);
  });

  it('renews without a challenge when signed by a valid certificate it issued', async () => {
    const ca = await testCa();
    const first = await post(
      scep,
      await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE, keyIndex: 2 }),
    );
    const old = first.certificates![0]!;
    const { privateKey } = await poolKey(2);
    const renewal = await makeRequest({
      recipient: ca.certificate,
      keyIndex: 2,
      messageType: '17',
      signer: { certificate: old, privateKey },
    });
    const r = await post(scep, renewal);
    expect(r.status).toBe(PkiStatus.SUCCESS);
    expect(r.certificates![0]!.serialNumber).not.toBe(old.serialNumber);

    // Signed by a self-signed certificate instead, the same RenewalReq needs the challenge.
    const selfSigned = await makeRequest({ recipient: ca.certificate, keyIndex: 2, messageType: '17' });
    const r2 = await post(scep, selfSigned);
    expect(r2.status).toBe(PkiStatus.FAILURE);
    expect(r2.failInfo).toBe(FailInfo.badRequest);
  });

  it('can require the challenge on renewal too', async () => {
    const ca = await testCa();
    const strict = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE), renewalRequiresChallenge: true }),
    });
    const first = await post(
      strict,
      await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE, keyIndex: 3 }),
    );
    const { privateKey } = await poolKey(3);
    const signer = { certificate: first.certificates![0]!, privateKey };
    const without = await post(
      strict,
      await makeRequest({ recipient: ca.certificate, keyIndex: 3, messageType: '17', signer }),
    );
    expect(without.failInfo).toBe(FailInfo.badRequest);
    const withIt = await post(
      strict,
      await makeRequest({
        recipient: ca.certificate,
        keyIndex: 3,
        messageType: '17',
        signer,
        challenge: CHALLENGE,
      }),
    );
    expect(withIt.status).toBe(PkiStatus.SUCCESS);
  });

  it('answers GetCert for a serial it issued and badCertId for another', async () => {
    const ca = await testCa();
    const first = await post(scep, await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE }));
    const cert = first.certificates![0]!;
    const { encodeIssuerAndSerial } = await import('@mdmkit/crypto');
    const ias = (serial: string) => encodeIssuerAndSerial({ issuer: ca.certificate.subject.der, serial });
    const get = await makeRequest({
      recipient: ca.certificate,
      messageType: '21',
      envelope: undefined,
      mutateCsr: () => ias(cert.serialNumber),
    });
    const r = await post(scep, get);
    expect(r.status).toBe(PkiStatus.SUCCESS);
    expect(r.certificates![0]!.serialNumber).toBe(cert.serialNumber);
    const missing = await post(
      scep,
      await makeRequest({ recipient: ca.certificate, messageType: '21', mutateCsr: () => ias('1234') }),
    );
    expect(missing.failInfo).toBe(FailInfo.badCertId);
  });

  it('PENDING, then CertPoll until the policy approves', async () => {
    const ca = await testCa();
    const approved = new Set<string>();
    const pendingServer = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({
        challenge: staticChallenge(CHALLENGE),
        approve: async () => ({ action: 'pending' }),
        poll: async (req, template) =>
          approved.has(req.transactionId) ? { action: 'issue', template } : { action: 'pending' },
      }),
    });
    const req = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE, keyIndex: 4 });
    const r = await post(pendingServer, req);
    expect(r.status).toBe(PkiStatus.PENDING);
    const poll = async () => {
      const { encodeIssuerAndSubject } = await import('@mdmkit/crypto');
      const p = await makeRequest({
        recipient: ca.certificate,
        keyIndex: 4,
        messageType: '20',
        signer: req.signer,
        mutateCsr: () =>
          encodeIssuerAndSubject({ issuer: ca.certificate.subject.der, subject: 'CN=test-device' }),
      });
      // CertPoll carries the original transactionID.
      return p;
    };
    // A CertPoll with another transactionID is unknown.
    const unknown = await post(pendingServer, await poll());
    expect(unknown.failInfo).toBe(FailInfo.badCertId);
    const { signCms, printableStringAttribute, octetStringAttribute, encryptCms, encodeIssuerAndSubject } =
      await import('@mdmkit/crypto');
    const { ScepOid } = await import('../src/index');
    const certPoll = async () => {
      const env = await encryptCms({
        content: encodeIssuerAndSubject({ issuer: ca.certificate.subject.der, subject: 'CN=test-device' }),
        recipients: [ca.certificate],
      });
      const der = await signCms({
        content: env,
        certificate: req.signer.certificate,
        privateKey: req.signer.privateKey,
        certificates: [req.signer.certificate],
        signedAttributes: [
          printableStringAttribute(ScepOid.messageType, '20'),
          printableStringAttribute(ScepOid.transactionID, req.transactionId),
          octetStringAttribute(
            ScepOid.senderNonce,
            new Uint8Array(16).map(() => Math.floor(Math.random() * 256)),
          ),
        ],
      });
      return post(pendingServer, { der, signer: req.signer });
    };
    expect((await certPoll()).status).toBe(PkiStatus.PENDING);
    approved.add(req.transactionId);
    const done = await certPoll();
    expect(done.status).toBe(PkiStatus.SUCCESS);
    expect(done.certificates![0]!.subject.get('CN')).toBe('test-device');
  });
});

describe('openssl decodes what we send and what we answer', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mdmkit-scep-openssl-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const openssl = (args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' });

  it('cms -verify -noverify, then cms -decrypt, on a PKCSReq and its CertRep', async () => {
    const ca = await testCa();
    const scep = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    const req = await makeRequest({
      recipient: ca.certificate,
      challenge: CHALLENGE,
      subject: 'CN=openssl-device',
    });
    writeFileSync(join(dir, 'req.der'), req.der);
    writeFileSync(join(dir, 'ca.pem'), ca.certificate.pem);
    writeFileSync(
      join(dir, 'ca.key'),
      exportPrivateKey(ca.signer as import('node:crypto').KeyObject, 'pkcs8-pem') as string,
    );
    let r = openssl([
      'cms',
      '-verify',
      '-noverify',
      '-inform',
      'DER',
      '-in',
      join(dir, 'req.der'),
      '-out',
      join(dir, 'req-env.der'),
      '-binary',
    ]);
    expect(r.status, r.stderr).toBe(0);
    r = openssl([
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      join(dir, 'req-env.der'),
      '-recip',
      join(dir, 'ca.pem'),
      '-inkey',
      join(dir, 'ca.key'),
      '-out',
      join(dir, 'csr.der'),
      '-binary',
    ]);
    expect(r.status, r.stderr).toBe(0);
    r = openssl(['req', '-inform', 'DER', '-in', join(dir, 'csr.der'), '-verify', '-noout', '-subject']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('CN = openssl-device');

    const res = await scep.handle({
      method: 'POST',
      query: new URLSearchParams('operation=PKIOperation'),
      body: req.der,
    });
    writeFileSync(join(dir, 'rep.der'), res.body);
    r = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', join(dir, 'rep.der')]);
    expect(r.stdout).toContain('2.16.840.1.113733.1.9.3'); // pkiStatus
    expect(r.stdout).toContain('2.16.840.1.113733.1.9.6'); // recipientNonce
    r = openssl([
      'cms',
      '-verify',
      '-noverify',
      '-inform',
      'DER',
      '-in',
      join(dir, 'rep.der'),
      '-out',
      join(dir, 'rep-env.der'),
      '-binary',
    ]);
    expect(r.status, r.stderr).toBe(0);
    writeFileSync(join(dir, 'self.pem'), req.signer.certificate.pem);
    writeFileSync(join(dir, 'self.key'), exportPrivateKey(req.signer.privateKey, 'pkcs8-pem') as string);
    r = openssl([
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      join(dir, 'rep-env.der'),
      '-recip',
      join(dir, 'self.pem'),
      '-inkey',
      join(dir, 'self.key'),
      '-out',
      join(dir, 'certs.p7'),
      '-binary',
    ]);
    expect(r.status, r.stderr).toBe(0);
    r = openssl(['pkcs7', '-inform', 'DER', '-in', join(dir, 'certs.p7'), '-print_certs', '-noout']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('subject=CN = openssl-device');
    expect(r.stdout).toContain('issuer=CN = mdmkit test CA');
  });

  it('a FAILURE CertRep verifies without content', async () => {
    const ca = await testCa();
    const scep = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    const req = await makeRequest({ recipient: ca.certificate, challenge: 'wrong' });
    const res = await scep.handle({
      method: 'POST',
      query: new URLSearchParams('operation=PKIOperation'),
      body: req.der,
    });
    writeFileSync(join(dir, 'fail.der'), res.body);
    writeFileSync(join(dir, 'empty'), '');
    const r = openssl([
      'cms',
      '-verify',
      '-noverify',
      '-inform',
      'DER',
      '-in',
      join(dir, 'fail.der'),
      '-content',
      join(dir, 'empty'),
      '-binary',
      '-out',
      '/dev/null',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const print = openssl([
      'cms',
      '-cmsout',
      '-print',
      '-inform',
      'DER',
      '-in',
      join(dir, 'fail.der'),
    ]).stdout;
    expect(print).toContain('2.16.840.1.113733.1.9.4'); // failInfo
  });
});
