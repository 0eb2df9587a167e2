import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScepClient, ScepError } from '../src/index';
import { CHALLENGE, startTestServer, type TestServer, testCa } from './helpers';

describe('client against our server', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('enrolls with PKCSReq and the static challenge', async () => {
    const ca = await testCa();
    const client = new ScepClient({ url: t.url, caFingerprint: ca.certificate.fingerprintSha256 });
    const r = await client.enroll({ subject: 'CN=device-1,O=Example', challenge: CHALLENGE });
    expect(r.certificate.subject.toString()).toBe('CN=device-1,O=Example');
    expect(r.certificate.issuer.toString()).toBe(ca.certificate.subject.toString());
    expect(r.certificate.serialNumber).toMatch(/^[4-7][0-9a-f]{31}$/);
    expect(r.certificate.extendedKeyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    const rec = await t.store.getIssuedCertificate(r.certificate.serialNumber);
    expect(rec?.subject).toBe('CN=device-1,O=Example');
    expect(rec?.requester).toBe(r.transactionId);
  });

  it('refuses a wrong challenge with FAILURE/badRequest', async () => {
    const client = new ScepClient({ url: t.url });
    const err = await client.enroll({ subject: 'CN=device-2', challenge: 'nope' }).catch((e) => e);
    expect(err).toBeInstanceOf(ScepError);
    expect(err.code, String(err.cause?.message ?? err.message)).toBe('REQUEST_FAILED');
    expect(err.failInfo).toBe('badRequest');
  });
});
