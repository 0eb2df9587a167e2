import { randomUUID } from 'node:crypto';
import { createSelfSignedCa, exportPrivateKey, generateKeyPair, issueCertificate } from '@mdmkit/crypto';

/** A CA, a server certificate for 127.0.0.1 and an RSA MDM push certificate, made with @mdmkit/crypto. */
export async function makeBenchPki() {
  const ca = await createSelfSignedCa({ subject: 'CN=mdmkit bench CA' });
  const server = await generateKeyPair({ type: 'ec', curve: 'P-256' });
  const serverCert = await issueCertificate({
    subject: 'CN=127.0.0.1',
    publicKey: server.publicKey,
    issuer: ca.certificate,
    issuerKey: ca.privateKey,
    subjectAltNames: { ip: ['127.0.0.1'], dns: ['localhost'] },
    extendedKeyUsage: ['serverAuth'],
    validityDays: 2,
  });
  const topic = `com.apple.mgmt.External.${randomUUID()}`;
  const push = await generateKeyPair({ type: 'rsa', bits: 2048 });
  const pushCert = await issueCertificate({
    subject: [
      { oid: '0.9.2342.19200300.100.1.1', value: topic },
      { oid: '2.5.4.3', value: `APSP:${topic.slice(-36)}` },
    ],
    publicKey: push.publicKey,
    issuer: ca.certificate,
    issuerKey: ca.privateKey,
    extendedKeyUsage: ['clientAuth'],
    // Apple's "push service client" development and production markers, which @parse/node-apn checks.
    extraExtensions: [
      { oid: '1.2.840.113635.100.6.3.1', value: new Uint8Array([0x05, 0x00]) },
      { oid: '1.2.840.113635.100.6.3.2', value: new Uint8Array([0x05, 0x00]) },
    ],
    validityDays: 2,
  });
  return {
    caPem: ca.certificate.pem,
    serverKeyPem: exportPrivateKey(server.privateKey, 'pkcs8-pem') as string,
    serverCertPem: serverCert.pem,
    pushKeyPem: exportPrivateKey(push.privateKey, 'pkcs8-pem') as string,
    pushCertPem: pushCert.pem,
    topic,
  };
}
