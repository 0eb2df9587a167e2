import { generateKeyPair } from '@mdmkit/crypto';
import { MemoryStorage } from '@mdmkit/storage';
import { describe, expect, it } from 'vitest';
import {
  anyChallenge,
  checkKey,
  createScepPolicy,
  oneTimeChallenges,
  type ScepEnrollmentRequest,
  ScepError,
  staticChallenge,
} from '../src/index';
import { testCa } from './helpers';

async function request(overrides: Partial<ScepEnrollmentRequest> = {}): Promise<ScepEnrollmentRequest> {
  const ca = await testCa();
  const { toDistinguishedName } = await import('@mdmkit/crypto');
  return {
    messageType: 'PKCSReq',
    transactionId: 't',
    subject: toDistinguishedName('CN=device,O=Example'),
    publicKey: ca.certificate.publicKey,
    challenge: 'secret',
    signer: ca.certificate,
    csrDer: new Uint8Array(),
    ...overrides,
  };
}

describe('policy', () => {
  it('static challenge: exact match only, empty secret refused', async () => {
    const v = staticChallenge('secret');
    const req = await request();
    expect(v('secret', req)).toBe(true);
    expect(v('Secret', req)).toBe(false);
    expect(v('secret ', req)).toBe(false);
    expect(v(undefined, req)).toBe(false);
    expect(() => staticChallenge('')).toThrow(ScepError);
  });

  it('one-time challenges are stored hashed and consumed once', async () => {
    const store = new MemoryStorage();
    const puts: string[] = [];
    const spy = {
      putChallenge: (h: string, e: Date) => {
        puts.push(h);
        return store.putChallenge(h, e);
      },
      consumeChallenge: (h: string, n?: Date) => store.consumeChallenge(h, n),
    };
    const c = oneTimeChallenges(spy);
    const secret = await c.issue();
    expect(puts[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(puts[0]).not.toContain(secret);
    const req = await request();
    expect(await c.verify('other', req)).toBe(false);
    expect(await c.verify(secret, req)).toBe(true);
    expect(await c.verify(secret, req)).toBe(false);
  });

  it('anyChallenge accepts when one verifier does, and an external callback is just a function', async () => {
    const req = await request();
    const external = async (challenge: string | undefined) => challenge === 'from-idp';
    const v = anyChallenge(staticChallenge('secret'), external);
    expect(await v('from-idp', req)).toBe(true);
    expect(await v('secret', req)).toBe(true);
    expect(await v('nope', req)).toBe(false);
  });

  it('no challenge verifier means no enrollment', async () => {
    const d = await createScepPolicy().decide(await request());
    expect(d).toMatchObject({ action: 'reject', failInfo: 'badRequest' });
  });

  it('key rules: default RSA 2048/3072/4096; EC only when allowed', async () => {
    const rsa = (await testCa()).certificate.publicKey;
    expect(checkKey(rsa, [{ type: 'rsa', sizes: [2048] }])).toBeUndefined();
    expect(checkKey(rsa, [{ type: 'rsa', sizes: [4096] }])).toMatch(/RSA 2048/);
    const ec = (await generateKeyPair({ type: 'ec', curve: 'P-256' })).publicKey;
    const policy = createScepPolicy({ challenge: staticChallenge('secret') });
    expect(await policy.decide(await request({ publicKey: ec }))).toMatchObject({ action: 'reject' });
    const ecPolicy = createScepPolicy({
      challenge: staticChallenge('secret'),
      keys: [{ type: 'ec', curves: ['P-256'] }],
    });
    expect(await ecPolicy.decide(await request({ publicKey: ec }))).toMatchObject({ action: 'issue' });
  });

  it('subject and SAN rules, validity, KeyUsage and EKU template', async () => {
    const policy = createScepPolicy({
      challenge: staticChallenge('secret'),
      subject: (dn) => (dn.get('O') === 'Example' ? undefined : 'wrong organization'),
      subjectAltNames: (sans) =>
        (sans.dns ?? []).every((d) => d.endsWith('.example.com')) ? undefined : 'bad dns',
      validityDays: 90,
    });
    const ok = await policy.decide(await request({ subjectAltNames: { dns: ['a.example.com'] } }));
    expect(ok).toEqual({
      action: 'issue',
      template: {
        validityDays: 90,
        keyUsage: ['digitalSignature', 'keyEncipherment'],
        extendedKeyUsage: ['clientAuth'],
      },
    });
    expect(await policy.decide(await request({ subjectAltNames: { dns: ['evil.test'] } }))).toMatchObject({
      action: 'reject',
      reason: 'bad dns',
    });
    const { toDistinguishedName } = await import('@mdmkit/crypto');
    expect(
      await policy.decide(await request({ subject: toDistinguishedName('CN=x,O=Other') })),
    ).toMatchObject({
      reason: 'wrong organization',
    });
    // Without a SAN rule, SANs are refused by default.
    const plain = createScepPolicy({ challenge: staticChallenge('secret') });
    expect(await plain.decide(await request({ subjectAltNames: { dns: ['a.example.com'] } }))).toMatchObject({
      action: 'reject',
    });
    expect(() => createScepPolicy({ validityDays: 0 })).toThrow(ScepError);
  });

  it('renewal skips the challenge only when the signer is a valid certificate of ours', async () => {
    const ca = await testCa();
    const policy = createScepPolicy({ challenge: staticChallenge('secret') });
    const renewing = await request({
      messageType: 'RenewalReq',
      challenge: undefined,
      renewing: ca.certificate,
      subject: ca.certificate.subject,
    });
    expect(await policy.decide(renewing)).toMatchObject({ action: 'issue' });
    const notOurs = await request({ messageType: 'RenewalReq', challenge: undefined });
    expect(await policy.decide(notOurs)).toMatchObject({ action: 'reject' });
    const { toDistinguishedName } = await import('@mdmkit/crypto');
    const otherSubject = await request({
      messageType: 'RenewalReq',
      challenge: undefined,
      renewing: ca.certificate,
      subject: toDistinguishedName('CN=someone else'),
    });
    expect(await policy.decide(otherSubject)).toMatchObject({ action: 'reject' });
  });
});
