import { createPublicKey, type KeyObject, randomUUID, verify } from 'node:crypto';
import {
  ApnsClient,
  createPushCertificateRequest,
  decodePushCertificateRequest,
  generatePushCsr,
  installPushCertificate,
  type PushCertWriter,
  parsePushCertificate,
  type StoredPushCertRecord,
} from '@mdmkit/apns';
import {
  type Certificate,
  createSelfSignedCa,
  createStaticKeyProvider,
  exportPkcs12,
  exportPrivateKey,
  generateKeyPair,
  issueCertificate,
  parseCsr,
} from '@mdmkit/crypto';
import { parse as parsePlist } from '@mdmkit/plist';
import { startMockApns } from '@mdmkit/testkit/mock-apns';
import { beforeAll, describe, expect, it } from 'vitest';

const UID = '0.9.2342.19200300.100.1.1';

interface Ca {
  certificate: Certificate;
  privateKey: KeyObject;
}

async function issuePush(
  ca: Ca,
  topic: string,
  opts: { key?: KeyObject; days?: number; notAfter?: Date } = {},
) {
  const pair = opts.key
    ? { privateKey: opts.key, publicKey: createPublicKey(opts.key) }
    : await generateKeyPair({ type: 'ec', curve: 'P-256' });
  const certificate = await issueCertificate({
    subject: [
      { oid: UID, value: topic },
      { oid: '2.5.4.3', value: `APSP:${topic.slice(-8)}` },
    ],
    publicKey: pair.publicKey,
    issuer: ca.certificate,
    issuerKey: ca.privateKey,
    ...(opts.notAfter
      ? { notBefore: new Date(opts.notAfter.getTime() - 86_400_000 * 2), notAfter: opts.notAfter }
      : { validityDays: opts.days ?? 365 }),
    extendedKeyUsage: ['clientAuth'],
  });
  return { certificate, privateKey: pair.privateKey };
}

class TinyStore implements PushCertWriter {
  readonly records = new Map<string, StoredPushCertRecord>();
  private n = 0;
  async getPushCert(topic: string) {
    return this.records.get(topic);
  }
  async putPushCert(rec: { topic: string; certificatePem: string; sealedKey: Uint8Array }) {
    const stored = { ...rec, version: String(++this.n), updatedAt: new Date() };
    this.records.set(rec.topic, stored);
    return stored;
  }
  async listPushCerts() {
    return [...this.records.values()];
  }
}

/** A store holding one freshly installed push certificate for a random topic. */
async function storeWithFirstCertificate(pushCa: Ca, keyFill: number) {
  const store = new TinyStore();
  const keyProvider = createStaticKeyProvider(new Uint8Array(32).fill(keyFill));
  const topic = `com.apple.mgmt.External.${randomUUID()}`;
  const first = await issuePush(pushCa, topic);
  await installPushCertificate({
    store,
    keyProvider,
    certificate: first.certificate.pem,
    privateKey: first.privateKey,
  });
  return { store, keyProvider, topic, first };
}

describe('push certificate tooling', () => {
  let root: Ca;
  let intermediate: Ca;
  let vendor: Ca;
  let pushCa: Ca;

  beforeAll(async () => {
    root = await createSelfSignedCa({ subject: 'CN=Test Root CA,O=mdmkit tests' });
    const ikey = await generateKeyPair({ type: 'rsa', bits: 2048 });
    intermediate = {
      certificate: await issueCertificate({
        subject: 'CN=Test Intermediate,O=mdmkit tests',
        publicKey: ikey.publicKey,
        issuer: root.certificate,
        issuerKey: root.privateKey,
        isCA: true,
        validityDays: 30,
      }),
      privateKey: ikey.privateKey,
    };
    const vkey = await generateKeyPair({ type: 'rsa', bits: 2048 });
    vendor = {
      certificate: await issueCertificate({
        subject: 'CN=MDM Vendor: Example,O=mdmkit tests',
        publicKey: vkey.publicKey,
        issuer: intermediate.certificate,
        issuerKey: intermediate.privateKey,
        validityDays: 30,
      }),
      privateKey: vkey.privateKey,
    };
    pushCa = await createSelfSignedCa({ subject: 'CN=Test Push CA' });
  });

  it('generates an RSA 2048 push key with a valid CSR', async () => {
    const { privateKey, csrDer, csrPem } = await generatePushCsr({
      subject: 'CN=Example Corp MDM,O=Example Corp',
    });
    expect(privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const csr = parseCsr(csrPem);
    expect(csr.verifySignature()).toBe(true);
    expect(Buffer.from(csr.der).equals(Buffer.from(csrDer))).toBe(true);
    expect(csr.subject.get('O')).toBe('Example Corp');
  });

  it('vendor-signs a CSR into the PushCertificateRequest plist', async () => {
    const { csrDer } = await generatePushCsr();
    const request = await createPushCertificateRequest({
      csr: csrDer,
      vendorCertificate: vendor.certificate.pem,
      vendorPrivateKey: exportPrivateKey(vendor.privateKey, 'pkcs8-pem') as string,
      vendorChain: intermediate.certificate.pem + root.certificate.pem,
    });
    expect(request).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const xml = Buffer.from(request, 'base64').toString('utf8');
    expect(xml).toContain('<!DOCTYPE plist');
    const dict = parsePlist(xml) as Record<string, string>;
    expect(Object.keys(dict).sort()).toEqual([
      'PushCertCertificateChain',
      'PushCertRequestCSR',
      'PushCertSignature',
    ]);
    expect(Buffer.from(dict.PushCertRequestCSR!, 'base64').equals(Buffer.from(csrDer))).toBe(true);
    expect(dict.PushCertCertificateChain).toBe(
      vendor.certificate.pem + intermediate.certificate.pem + root.certificate.pem,
    );
    // RSA PKCS#1 v1.5 over SHA-256 of the CSR DER, checked independently of the decoder
    const sig = Buffer.from(dict.PushCertSignature!, 'base64');
    expect(sig).toHaveLength(256);
    expect(verify('sha256', csrDer, vendor.certificate.publicKey, sig)).toBe(true);
    const decoded = decodePushCertificateRequest(request);
    expect(decoded.signatureValid).toBe(true);
    expect(decoded.chain.map((c) => c.fingerprintSha256)).toEqual(
      [vendor, intermediate, root].map((c) => c.certificate.fingerprintSha256),
    );
  });

  it('refuses a vendor chain with a SHA-1-signed intermediate unless SHA-1 is allowed', async () => {
    const ikey = await generateKeyPair({ type: 'rsa', bits: 2048 });
    const sha1Intermediate = await issueCertificate({
      subject: 'CN=SHA-1 Intermediate,O=mdmkit tests',
      publicKey: ikey.publicKey,
      issuer: root.certificate,
      issuerKey: root.privateKey,
      isCA: true,
      validityDays: 30,
      hash: 'sha1',
    });
    const sha1Vendor = await issueCertificate({
      subject: 'CN=MDM Vendor: SHA-1 chain,O=mdmkit tests',
      publicKey: vendor.certificate.publicKey,
      issuer: sha1Intermediate,
      issuerKey: ikey.privateKey,
      validityDays: 30,
    });
    const base = {
      csr: (await generatePushCsr()).csrDer,
      vendorCertificate: sha1Vendor.pem,
      vendorPrivateKey: vendor.privateKey,
      vendorChain: sha1Intermediate.pem + root.certificate.pem,
    };
    await expect(createPushCertificateRequest(base)).rejects.toMatchObject({ code: 'INVALID_CERTIFICATE' });
    const request = await createPushCertificateRequest({ ...base, allowSha1Signatures: true });
    expect(decodePushCertificateRequest(request).signatureValid).toBe(true);
  });

  it('refuses a wrong vendor key, a broken chain and a tampered CSR', async () => {
    const { csrDer } = await generatePushCsr();
    const base = {
      csr: csrDer,
      vendorCertificate: vendor.certificate.pem,
      vendorPrivateKey: vendor.privateKey,
      vendorChain: intermediate.certificate.pem + root.certificate.pem,
    };
    await expect(
      createPushCertificateRequest({ ...base, vendorPrivateKey: intermediate.privateKey }),
    ).rejects.toMatchObject({
      code: 'KEY_MISMATCH',
    });
    await expect(
      createPushCertificateRequest({ ...base, vendorChain: pushCa.certificate.pem }),
    ).rejects.toMatchObject({
      code: 'INVALID_CERTIFICATE',
    });
    const tampered = Buffer.from(csrDer);
    tampered[tampered.length - 5]! ^= 0xff;
    await expect(createPushCertificateRequest({ ...base, csr: tampered })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(() => decodePushCertificateRequest('bm90IGEgcGxpc3Q=')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('parses a push certificate from PEM, DER and PKCS#12', async () => {
    const topic = `com.apple.mgmt.External.${randomUUID()}`;
    const { certificate, privateKey } = await issuePush(pushCa, topic, { days: 365 });
    const fromPem = parsePushCertificate(certificate.pem + pushCa.certificate.pem);
    expect(fromPem.topic).toBe(topic);
    expect(fromPem.serialNumber).toBe(certificate.serialNumber);
    expect(fromPem.issuer).toBe('CN=Test Push CA');
    expect(fromPem.notAfter.getTime()).toBe(certificate.notAfter.getTime());
    expect(fromPem.renewBy.getTime()).toBe(certificate.notAfter.getTime() - 30 * 86_400_000);
    expect(fromPem.chain).toHaveLength(1);
    expect(parsePushCertificate(certificate.der, { renewalWindowDays: 10 }).renewBy.getTime()).toBe(
      certificate.notAfter.getTime() - 10 * 86_400_000,
    );
    const p12 = exportPkcs12({ privateKey, certificate, chain: [pushCa.certificate], password: 'pw' });
    const fromP12 = parsePushCertificate(p12, { password: 'pw' });
    expect(fromP12.topic).toBe(topic);
    expect(fromP12.privateKey?.asymmetricKeyType).toBe('ec');
    expect(() => parsePushCertificate(p12, { password: 'wrong' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CERTIFICATE' }),
    );
    const app = await issuePush(pushCa, 'com.example.app');
    expect(() => parsePushCertificate(app.certificate.pem)).toThrow(
      expect.objectContaining({ code: 'INVALID_TOPIC' }),
    );
    expect(() => parsePushCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01]))).toThrow(
      expect.objectContaining({ code: 'INVALID_CERTIFICATE' }),
    );
    expect(() => parsePushCertificate(pushCa.certificate.pem)).toThrow(
      expect.objectContaining({ code: 'INVALID_TOPIC' }),
    );
  });

  it('guards renewals: same topic and matching key, unless forced', async () => {
    const store = new TinyStore();
    const keyProvider = createStaticKeyProvider(new Uint8Array(32).fill(7));
    const topic = `com.apple.mgmt.External.${randomUUID()}`;
    const first = await issuePush(pushCa, topic);
    const installed = await installPushCertificate({
      store,
      keyProvider,
      certificate: first.certificate.pem,
      privateKey: first.privateKey,
    });
    expect(installed.record.topic).toBe(topic);
    expect(installed.replaced).toBeUndefined();
    expect(Buffer.from(installed.record.sealedKey).includes(Buffer.from('PRIVATE'))).toBe(false);

    // renewal from a CSR of the stored key: no key passed, the stored one is used
    const renewed = await issuePush(pushCa, topic, { key: first.privateKey, days: 400 });
    const r2 = await installPushCertificate({
      store,
      keyProvider,
      certificate: renewed.certificate.der,
      currentTopic: topic,
    });
    expect(r2.replaced?.serialNumber).toBe(first.certificate.serialNumber);
    expect(store.records.get(topic)?.version).toBe('2');

    const otherTopic = await issuePush(pushCa, `com.apple.mgmt.External.${randomUUID()}`, {
      key: first.privateKey,
    });
    await expect(
      installPushCertificate({
        store,
        keyProvider,
        certificate: otherTopic.certificate.pem,
        currentTopic: topic,
      }),
    ).rejects.toMatchObject({ code: 'TOPIC_MISMATCH' });
    const forced = await installPushCertificate({
      store,
      keyProvider,
      certificate: otherTopic.certificate.pem,
      currentTopic: topic,
      force: true,
    });
    expect(forced.info.topic).not.toBe(topic);

    const otherKey = await issuePush(pushCa, topic);
    await expect(
      installPushCertificate({
        store,
        keyProvider,
        certificate: otherKey.certificate.pem,
        currentTopic: topic,
      }),
    ).rejects.toMatchObject({ code: 'KEY_MISMATCH' });
    await expect(
      installPushCertificate({
        store,
        keyProvider,
        certificate: otherKey.certificate.pem,
        privateKey: first.privateKey,
      }),
    ).rejects.toMatchObject({ code: 'KEY_MISMATCH' });
    const expired = await issuePush(pushCa, topic, {
      key: first.privateKey,
      notAfter: new Date(Date.now() - 86_400_000),
    });
    await expect(
      installPushCertificate({
        store,
        keyProvider,
        certificate: expired.certificate.pem,
        currentTopic: topic,
      }),
    ).rejects.toMatchObject({ code: 'CERTIFICATE_EXPIRED' });
    expect(store.records.get(topic)?.version).toBe('2');
  });

  it('refuses a certificate for another topic than the stored one even without currentTopic', async () => {
    const { store, keyProvider, topic, first } = await storeWithFirstCertificate(pushCa, 8);
    // An admin uploads a certificate made for another topic (a new certificate, not a renewal).
    const other = await issuePush(pushCa, `com.apple.mgmt.External.${randomUUID()}`);
    await expect(
      installPushCertificate({
        store,
        keyProvider,
        certificate: other.certificate.pem,
        privateKey: other.privateKey,
      }),
    ).rejects.toMatchObject({ code: 'TOPIC_MISMATCH' });
    expect([...store.records.keys()]).toEqual([topic]);
    // A renewal of the stored topic passes without currentTopic.
    const renewed = await issuePush(pushCa, topic, { key: first.privateKey, days: 400 });
    const r = await installPushCertificate({ store, keyProvider, certificate: renewed.certificate.pem });
    expect(r.replaced?.serialNumber).toBe(first.certificate.serialNumber);
    // Only an explicit force adds the other topic.
    const forced = await installPushCertificate({
      store,
      keyProvider,
      certificate: other.certificate.pem,
      privateKey: other.privateKey,
      force: true,
    });
    expect(forced.info.topic).not.toBe(topic);
    expect(store.records.size).toBe(2);
  });

  it('hot-reloads a renewed certificate from the store without a restart', async () => {
    const serverKey = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    const serverCert = await issueCertificate({
      subject: 'CN=127.0.0.1',
      publicKey: serverKey.publicKey,
      issuer: pushCa.certificate,
      issuerKey: pushCa.privateKey,
      subjectAltNames: { ip: ['127.0.0.1'] },
      extendedKeyUsage: ['serverAuth'],
      validityDays: 2,
    });
    const mock = await startMockApns({
      key: exportPrivateKey(serverKey.privateKey, 'pkcs8-pem') as string,
      cert: serverCert.pem,
    });
    const { store, keyProvider, topic, first } = await storeWithFirstCertificate(pushCa, 9);
    const client = new ApnsClient({
      store: { certs: store, topic, keyProvider, checkIntervalMs: 60_000 },
      origin: mock.origin,
      ca: pushCa.certificate.pem,
    });
    try {
      const token = 'ab'.repeat(32);
      // concurrent first pushes share one load of the store and one session
      const first10 = await Promise.all(
        Array.from({ length: 10 }, () => client.push({ token, pushMagic: 'm' })),
      );
      expect(first10.every((r) => r.ok)).toBe(true);
      expect(mock.stats.connections).toBe(1);
      mock.reset();
      expect(await client.push({ token, pushMagic: 'm' })).toMatchObject({ ok: true });
      expect(client.topic).toBe(topic);
      // renewed with a new key, as when the admin made a fresh CSR
      const renewed = await issuePush(pushCa, topic);
      await installPushCertificate({
        store,
        keyProvider,
        certificate: renewed.certificate.pem,
        privateKey: renewed.privateKey,
        currentTopic: topic,
      });
      expect(await client.reload()).toBe(true);
      expect(await client.reload()).toBe(false);
      expect(await client.push({ token, pushMagic: 'm' })).toMatchObject({ ok: true });
      const serials = mock.requests.map((r) => r.clientSerial);
      expect(serials).toEqual([first.certificate.serialNumber, renewed.certificate.serialNumber]);

      // a store without the topic: clear per-push error, nothing sent
      const empty = new ApnsClient({
        store: { certs: new TinyStore(), topic, keyProvider },
        origin: mock.origin,
      });
      expect(await empty.push({ token, pushMagic: 'm' })).toMatchObject({
        ok: false,
        reason: 'CertificateInvalid',
        error: expect.objectContaining({ code: 'NO_CERTIFICATE' }),
      });
      await empty.close();
      expect(mock.requests).toHaveLength(2);
    } finally {
      await client.close();
      await mock.close();
    }
  });
});
