import { randomUUID } from 'node:crypto';
import {
  type Certificate,
  createSelfSignedCa,
  exportPrivateKey,
  generateKeyPair,
  issueCertificate,
} from '@mdmkit/crypto';

/** TLS material for a mock APNs and push certificates for its clients, all issued by one test CA. */
export interface MockApnsCertificates {
  /** The test CA (PEM); clients trust it to reach the mock. */
  caPem: string;
  /** The mock's server key and certificate for 127.0.0.1 and localhost (PEM). */
  serverKeyPem: string;
  serverCertPem: string;
  /** Issues an MDM push certificate: subject UID = `topic`, valid for `days` (negative = already expired). */
  issuePushCertificate(options?: { topic?: string; days?: number; rsa?: boolean }): Promise<{
    topic: string;
    keyPem: string;
    certPem: string;
    certificate: Certificate;
  }>;
}

/**
 * Creates a throwaway CA with a server certificate for the mock and a way to issue push certificates,
 * so tests need neither openssl nor files.
 *
 * @example
 * ```ts
 * const pki = await createMockApnsCertificates();
 * const mock = await startMockApns({ key: pki.serverKeyPem, cert: pki.serverCertPem });
 * const push = await pki.issuePushCertificate();
 * // client: certificate push.certPem, key push.keyPem, trust pki.caPem, origin mock.origin
 * ```
 */
export async function createMockApnsCertificates(): Promise<MockApnsCertificates> {
  const ca = await createSelfSignedCa({ subject: 'CN=mdmkit mock APNs CA', validityDays: 30 });
  const server = await generateKeyPair({ type: 'ec', curve: 'P-256' });
  const serverCert = await issueCertificate({
    subject: 'CN=127.0.0.1',
    publicKey: server.publicKey,
    issuer: ca.certificate,
    issuerKey: ca.privateKey,
    subjectAltNames: { ip: ['127.0.0.1'], dns: ['localhost'] },
    extendedKeyUsage: ['serverAuth'],
    validityDays: 30,
  });
  return {
    caPem: ca.certificate.pem,
    serverKeyPem: exportPrivateKey(server.privateKey, 'pkcs8-pem') as string,
    serverCertPem: serverCert.pem,
    async issuePushCertificate(options = {}) {
      const topic = options.topic ?? `com.apple.mgmt.External.${randomUUID()}`;
      const pair = await generateKeyPair(
        options.rsa ? { type: 'rsa', bits: 2048 } : { type: 'ec', curve: 'P-256' },
      );
      const days = options.days ?? 365;
      const now = Date.now();
      const notAfter = new Date(now + days * 86_400_000);
      const notBefore = new Date(Math.min(now - 60_000, notAfter.getTime() - 86_400_000));
      const certificate = await issueCertificate({
        subject: [
          { oid: '0.9.2342.19200300.100.1.1', value: topic },
          { oid: '2.5.4.3', value: `APSP:${topic.slice(-36)}` },
        ],
        publicKey: pair.publicKey,
        issuer: ca.certificate,
        issuerKey: ca.privateKey,
        notBefore,
        notAfter,
        extendedKeyUsage: ['clientAuth'],
      });
      return {
        topic,
        keyPem: exportPrivateKey(pair.privateKey, 'pkcs8-pem') as string,
        certPem: certificate.pem,
        certificate,
      };
    },
  };
}
