import { requirePeer } from '@mdmkit/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildEnrollmentProfile,
  type EnrollmentProfileOptions,
  encodeProfile,
  parseProfile,
} from '../src/index';
import { plistlibJson, Scratch } from './pki';
import { caught } from './caught';

const base: EnrollmentProfileOptions = {
  serverUrl: 'https://mdm.example.com/mdm',
  checkInUrl: 'https://mdm.example.com/checkin',
  topic: 'com.apple.mgmt.External.2f1ac3b0-5e0f-4a4c-9f5e-0d1c2b3a4f5e',
  scep: {
    url: 'https://mdm.example.com/scep',
    challenge: 'one-time',
    keySize: 2048,
    subject: [
      ['O', 'Example'],
      ['CN', 'MDM Identity'],
    ],
  },
};

describe('enrollment profile', () => {
  it('SCEP identity + com.apple.mdm pointing at it, with the defaults the server needs', () => {
    const p = buildEnrollmentProfile({ ...base, anchorCertificates: [new Uint8Array([0x30, 0x00])] });
    expect(p.PayloadIdentifier).toBe('com.example.mdm.enrollment');
    const [anchor, scep, mdm] = p.PayloadContent;
    expect(anchor!.PayloadType).toBe('com.apple.security.root');
    expect(scep!.PayloadType).toBe('com.apple.security.scep');
    expect(scep!.PayloadContent).toMatchObject({
      URL: 'https://mdm.example.com/scep',
      Challenge: 'one-time',
      Keysize: 2048,
      Subject: [[['O', 'Example']], [['CN', 'MDM Identity']]],
    });
    expect(mdm).toMatchObject({
      PayloadType: 'com.apple.mdm',
      IdentityCertificateUUID: scep!.PayloadUUID,
      Topic: base.topic,
      ServerURL: base.serverUrl,
      CheckInURL: base.checkInUrl,
      SignMessage: true,
      AccessRights: 8191,
      CheckOutWhenRemoved: true,
      ServerCapabilities: ['com.apple.mdm.per-user-connections', 'com.apple.mdm.bootstraptoken'],
    });
    const parsed = parseProfile(encodeProfile(p));
    expect(parsed.issues).toEqual([]);
    expect(parsed.payloads.every((x) => x.valid)).toBe(true);
  });

  it('ACME identity instead of SCEP', () => {
    const { scep: _, ...rest } = base;
    const p = buildEnrollmentProfile({
      ...rest,
      acme: {
        directoryUrl: 'https://acme.example.com/directory',
        clientIdentifier: 'abc',
        attest: true,
        subject: [['CN', 'dev']],
      },
      accessRights: 4095,
      signMessage: false,
      checkOutWhenRemoved: false,
      serverCapabilities: ['com.apple.mdm.per-user-connections'],
    });
    const [acme, mdm] = p.PayloadContent;
    expect(acme).toMatchObject({
      PayloadType: 'com.apple.security.acme',
      KeyType: 'ECSECPrimeRandom',
      KeySize: 384,
      HardwareBound: true,
      Attest: true,
    });
    expect(mdm).toMatchObject({
      IdentityCertificateUUID: acme!.PayloadUUID,
      AccessRights: 4095,
      SignMessage: false,
      CheckOutWhenRemoved: false,
    });
  });

  it('ACME with an RSA key is not hardware-bound by default; combinations devices refuse are refused', () => {
    const { scep: _, ...rest } = base;
    const acme = {
      directoryUrl: 'https://acme.example.com/d',
      clientIdentifier: 'abc',
      subject: [['CN', 'x']] as const,
    };
    const p = buildEnrollmentProfile({ ...rest, acme: { ...acme, keyType: 'RSA' } });
    expect(p.PayloadContent[0]).toMatchObject({ KeyType: 'RSA', KeySize: 2048, HardwareBound: false });
    const refused: [NonNullable<EnrollmentProfileOptions['acme']>, string][] = [
      [{ ...acme, keyType: 'RSA', hardwareBound: true }, 'acme.hardwareBound'],
      [{ ...acme, keyType: 'RSA', keySize: 1000 }, 'acme.keySize'],
      [{ ...acme, keyType: 'ECSECPrimeRandom', keySize: 2048 }, 'acme.keySize'],
      [{ ...acme, keySize: 521 }, 'acme.keySize'],
      [{ ...acme, hardwareBound: false, attest: true }, 'acme.attest'],
    ];
    for (const [a, path] of refused) {
      const e = caught(() => buildEnrollmentProfile({ ...rest, acme: a }));
      expect(e.code, path).toBe('INVALID_ENROLLMENT');
      expect(e.keyPath.join('.')).toBe(path);
    }
    expect(
      buildEnrollmentProfile({ ...rest, acme: { ...acme, keySize: 521, hardwareBound: false } })
        .PayloadContent[0],
    ).toMatchObject({ KeySize: 521, HardwareBound: false });
  });

  it('stable identifiers give the same profile for the same options', () => {
    const a = encodeProfile(buildEnrollmentProfile({ ...base, stableIdentifiers: true }));
    const b = encodeProfile(buildEnrollmentProfile({ ...base, stableIdentifiers: true }));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('refuses contradictory or incomplete options with INVALID_ENROLLMENT and the option path', () => {
    const cases: [Partial<EnrollmentProfileOptions>, string][] = [
      [{ serverUrl: 'http://mdm.example.com' }, 'serverUrl'],
      [{ serverUrl: 'not a url' }, 'serverUrl'],
      [{ checkInUrl: 'ftp://x' }, 'checkInUrl'],
      [{ topic: 'com.example.push' }, 'topic'],
      [{ accessRights: 0 }, 'accessRights'],
      [{ accessRights: 8192 }, 'accessRights'],
      [{ acme: { directoryUrl: 'https://a', clientIdentifier: 'x', subject: [['CN', 'x']] } }, 'scep'],
      [{ scep: { ...base.scep!, subject: [] } }, 'scep.subject'],
      [{ scep: { ...base.scep!, url: 'file:///etc/passwd' } }, 'scep.url'],
    ];
    for (const [change, path] of cases) {
      const e = caught(() => buildEnrollmentProfile({ ...base, ...change }));
      expect(e.code, path).toBe('INVALID_ENROLLMENT');
      expect(e.keyPath.join('.')).toBe(path);
    }
    expect(
      caught(() => buildEnrollmentProfile({ ...base, scep: { ...base.scep!, keySize: 3000 as never } })).code,
    ).toBe('INVALID_PAYLOAD');
  });
});

const python = requirePeer(
  { name: 'python3', probe: ['python3', '-c', 'import plistlib'] },
  'plistlib interop',
);

describe.skipIf(!python)('enrollment profile read by python3 plistlib', () => {
  const s = new Scratch();
  afterAll(() => s.dispose());
  it('plistlib sees the MDM payload and its identity reference', () => {
    const p = buildEnrollmentProfile(base);
    const seen = plistlibJson(s.write('enroll.mobileconfig', encodeProfile(p))) as {
      PayloadContent: Record<string, unknown>[];
    };
    const mdm = seen.PayloadContent.find((x) => x.PayloadType === 'com.apple.mdm')!;
    const scep = seen.PayloadContent.find((x) => x.PayloadType === 'com.apple.security.scep')!;
    expect(mdm.IdentityCertificateUUID).toBe(scep.PayloadUUID);
    expect(mdm.AccessRights).toBe(8191);
  });
});
