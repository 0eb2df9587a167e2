import { X509Certificate } from 'node:crypto';
import { createSelfSignedCa, generateKeyPair, signCms } from '@mdmkit/crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deviceIdentity,
  identityFromEscapedPemHeader,
  identityFromMdmSignature,
  identityFromPeerCertificate,
  identityFromRfc9440Header,
  ProtocolError,
} from '../src/index';

type Ca = Awaited<ReturnType<typeof createSelfSignedCa>>;
const body = new TextEncoder().encode('<plist><dict><key>Status</key><string>Idle</string></dict></plist>');
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

async function expectInvalid(p: Promise<unknown> | (() => unknown)) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('INVALID_IDENTITY');
    return;
  }
  throw new Error('expected INVALID_IDENTITY');
}

describe('device identity', () => {
  let rsa: Ca;
  let ec: Ca;
  beforeAll(async () => {
    rsa = await createSelfSignedCa({ subject: 'CN=device-rsa' });
    ec = await createSelfSignedCa({
      subject: 'CN=device-ec',
      key: await generateKeyPair({ type: 'ec', curve: 'P-256' }),
    });
  });

  for (const kind of ['rsa', 'ec'] as const) {
    it(`Mdm-Signature signed with ${kind.toUpperCase()}`, async () => {
      const id = kind === 'rsa' ? rsa : ec;
      const sig = await signCms({
        content: body,
        certificate: id.certificate,
        privateKey: id.privateKey,
        detached: true,
      });
      const got = await identityFromMdmSignature(b64(sig), body);
      expect(got.source).toBe('mdm-signature');
      expect(got.certificate.fingerprintSha256).toBe(id.certificate.fingerprintSha256);
      const tampered = Uint8Array.from(body);
      tampered[10] = tampered[10]! ^ 1;
      await expectInvalid(identityFromMdmSignature(b64(sig), tampered));
    });
  }

  it('rejects malformed Mdm-Signature values', async () => {
    await expectInvalid(identityFromMdmSignature('', body));
    await expectInvalid(identityFromMdmSignature('not base64!', body));
    await expectInvalid(identityFromMdmSignature(b64(new Uint8Array([0x30, 0x03, 1, 2, 3])), body));
  });

  it('mTLS peer certificate, as DER or with raw DER', () => {
    const x = new X509Certificate(rsa.certificate.pem);
    expect(identityFromPeerCertificate(x).certificate.fingerprintSha256).toBe(
      rsa.certificate.fingerprintSha256,
    );
    expect(identityFromPeerCertificate(rsa.certificate.der).source).toBe('mtls');
    expect(() => identityFromPeerCertificate({ raw: new Uint8Array(0) })).toThrow(ProtocolError);
  });

  it('RFC 9440 Client-Cert header (:base64:)', () => {
    const got = identityFromRfc9440Header(`:${b64(ec.certificate.der)}:`);
    expect(got.certificate.fingerprintSha256).toBe(ec.certificate.fingerprintSha256);
    expect(got.source).toBe('rfc9440-header');
    expect(() => identityFromRfc9440Header(b64(ec.certificate.der))).toThrow(ProtocolError);
    expect(() => identityFromRfc9440Header(':AAAA:')).toThrow(ProtocolError);
  });

  it('URL-escaped PEM header (nginx $ssl_client_escaped_cert)', () => {
    const escaped = encodeURIComponent(rsa.certificate.pem);
    expect(escaped).not.toContain('\n');
    expect(identityFromEscapedPemHeader(escaped).certificate.fingerprintSha256).toBe(
      rsa.certificate.fingerprintSha256,
    );
    expect(() => identityFromEscapedPemHeader('%E0%A4%A')).toThrow(ProtocolError);
    expect(() => identityFromEscapedPemHeader('hello')).toThrow(ProtocolError);
  });

  it('deviceIdentity prefers mTLS, then a configured proxy header, then Mdm-Signature', async () => {
    const sig = b64(
      await signCms({
        content: body,
        certificate: ec.certificate,
        privateKey: ec.privateKey,
        detached: true,
      }),
    );
    const headers = new Headers({ 'Mdm-Signature': sig, 'Client-Cert': `:${b64(rsa.certificate.der)}:` });
    // Without configuration the proxy header is ignored: it could come from any client.
    expect((await deviceIdentity({ headers, body })).source).toBe('mdm-signature');
    const viaHeader = await deviceIdentity(
      { headers, body },
      { certHeader: { name: 'client-cert', format: 'rfc9440' } },
    );
    expect(viaHeader.certificate.fingerprintSha256).toBe(rsa.certificate.fingerprintSha256);
    const viaTls = await deviceIdentity({ headers: {}, body, peerCertificate: ec.certificate.der });
    expect(viaTls.source).toBe('mtls');
    expect((await deviceIdentity({ headers: { 'mdm-signature': sig }, body })).source).toBe('mdm-signature');
    await expectInvalid(deviceIdentity({ headers: {}, body }));
  });
});
