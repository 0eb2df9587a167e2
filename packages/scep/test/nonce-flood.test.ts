import { encodeIssuerAndSerial, encodeIssuerAndSubject } from '@mdmkit/crypto';
import { MemoryStorage } from '@mdmkit/storage';
import { describe, expect, it } from 'vitest';
import { createScepPolicy, createScepServer, FailInfo, PkiStatus, staticChallenge } from '../src/index';
import { CHALLENGE, testCa } from './helpers';
import { makeRequest, post } from './pki';

/**
 * Anyone can sign a pkiMessage with a throwaway self-signed certificate. Such requests must not fill the
 * replay store: a nonce is recorded only for a request the server is about to act on.
 */
describe('a flood of unauthorised requests cannot lock enrollment out', () => {
  it('after a flood from self-signed certificates a real client still enrolls, and its replay is refused', async () => {
    const ca = await testCa();
    const store = new MemoryStorage({ limits: { maxSenderNonces: 20 } });
    const scep = createScepServer({
      ca,
      store,
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    const issuerAndSubject = encodeIssuerAndSubject({ issuer: 'CN=x', subject: 'CN=y' });
    const floods = [
      // A valid request with a wrong challenge: decrypts, parses, CSR signature checks, then refused.
      () => makeRequest({ recipient: ca.certificate, challenge: 'wrong', keyIndex: 1 }),
      // An envelope that does not open.
      () =>
        makeRequest({
          recipient: ca.certificate,
          keyIndex: 1,
          mutateEnvelope: (e) => {
            const c = e.slice();
            c[c.length - 3]! ^= 0xff;
            return c;
          },
        }),
      // A CertPoll for a transaction that does not exist.
      () =>
        makeRequest({
          recipient: ca.certificate,
          keyIndex: 1,
          messageType: '20',
          mutateCsr: () => issuerAndSubject,
        }),
    ];
    for (let i = 0; i < 60; i++) {
      const r = await post(scep, await floods[i % floods.length]!());
      expect(r.http).toBe(200);
      expect(r.status).toBe(PkiStatus.FAILURE);
    }
    const real = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE });
    const ok = await post(scep, real);
    expect(ok.http).toBe(200);
    expect(ok.status).toBe(PkiStatus.SUCCESS);
    const replay = await post(scep, real);
    expect(replay.status).toBe(PkiStatus.FAILURE);
    expect(replay.failInfo).toBe(FailInfo.badRequest);
  });

  it('a flood of GetCert for a known serial (serials are public) does not fill the store', async () => {
    const ca = await testCa();
    const scep = createScepServer({
      ca,
      store: new MemoryStorage({ limits: { maxSenderNonces: 20 } }),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    const first = await post(scep, await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE }));
    const serial = first.certificates![0]!.serialNumber;
    const get = encodeIssuerAndSerial({ issuer: ca.certificate.subject.der, serial });
    for (let i = 0; i < 30; i++) {
      const r = await post(
        scep,
        await makeRequest({
          recipient: ca.certificate,
          keyIndex: 1,
          messageType: '21',
          mutateCsr: () => get,
        }),
      );
      expect(r.status).toBe(PkiStatus.SUCCESS);
    }
    const real = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE });
    expect((await post(scep, real)).status).toBe(PkiStatus.SUCCESS);
    expect((await post(scep, real)).failInfo).toBe(FailInfo.badRequest);
  });

  it('two concurrent copies of one real request: exactly one is issued', async () => {
    const ca = await testCa();
    let issued = 0;
    const scep = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
      onEvent: (e) => {
        if (e.type === 'issued') issued++;
      },
    });
    const real = await makeRequest({ recipient: ca.certificate, challenge: CHALLENGE });
    const answers = await Promise.all([post(scep, real), post(scep, real), post(scep, real)]);
    expect(answers.filter((a) => a.status === PkiStatus.SUCCESS)).toHaveLength(1);
    expect(answers.filter((a) => a.failInfo === FailInfo.badRequest)).toHaveLength(2);
    expect(issued).toBe(1);
  });
});
