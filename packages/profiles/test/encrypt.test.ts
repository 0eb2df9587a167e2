import { buildXmlBytes, parse } from '@mdmkit/plist';
import { requirePeer } from '@mdmkit/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildProfile,
  decryptProfile,
  encodeProfile,
  encryptProfile,
  type ProfileDict,
  parseProfile,
  readSignedProfile,
  signProfile,
  wifiManagedPayload,
} from '../src/index';
import { makeProfilePki, pkiFiles, type ProfilePki, run, Scratch } from './pki';
import { rejected } from './caught';

const ok = requirePeer(
  { name: 'openssl', probe: ['openssl', 'version'] },
  'OpenSSL encrypted-profile interop',
);

describe('encrypted profiles', () => {
  let pki: ProfilePki;
  let profile: ProfileDict;
  const s = new Scratch();

  beforeAll(async () => {
    pki = await makeProfilePki();
    pkiFiles(s, pki);
    profile = buildProfile({
      identifier: 'com.example.wifi',
      payloads: [
        wifiManagedPayload({ SSID_STR: 'Office', EncryptionType: 'WPA2', Password: 'hunter2-secret' }),
      ],
    });
  });
  afterAll(() => s.dispose());

  it('the payloads are replaced by EncryptedPayloadContent; the secret is not in the bytes; round trip', async () => {
    const enc = await encryptProfile(profile, { recipient: pki.device });
    expect(enc.PayloadContent).toBeUndefined();
    expect(enc.IsEncrypted).toBe(true);
    const bytes = encodeProfile(enc);
    expect(Buffer.from(bytes).includes(Buffer.from('hunter2'))).toBe(false);
    const parsed = parseProfile(bytes);
    expect(parsed.encrypted).toBe(true);
    expect(parsed.issues).toEqual([]);
    const plain = await decryptProfile(parsed.dict, { certificate: pki.device, privateKey: pki.deviceKey });
    expect(plain.PayloadContent).toEqual(profile.PayloadContent);
    expect(plain.EncryptedPayloadContent).toBeUndefined();
  });

  it('signed after encryption: verifies, then decrypts', async () => {
    const signed = await signProfile(await encryptProfile(profile, { recipient: pki.device }), {
      certificate: pki.signer,
      privateKey: pki.signerKey,
      chain: [pki.intermediate],
    });
    const read = await readSignedProfile(signed, { trusted: [pki.root] });
    const plain = await decryptProfile(read.dict, { certificate: pki.device, privateKey: pki.deviceKey });
    expect(plain.PayloadContent).toEqual(profile.PayloadContent);
  });

  it('attack: wrong key, flipped ciphertext and non-list content all get the same answer', async () => {
    const enc = await encryptProfile(profile, { recipient: pki.device });
    const der = enc.EncryptedPayloadContent as Uint8Array;
    const flipped = Uint8Array.from(der);
    flipped[flipped.length - 5]! ^= 0xff;
    const notAList = await encryptProfile({ ...profile, PayloadContent: [] } as ProfileDict, {
      recipient: pki.device,
    });
    const wrongKey = { certificate: pki.device, privateKey: pki.signerKey };
    const errors = [
      await rejected(decryptProfile(enc, wrongKey)),
      await rejected(
        decryptProfile(
          { ...enc, EncryptedPayloadContent: flipped },
          { certificate: pki.device, privateKey: pki.deviceKey },
        ),
      ),
      await rejected(
        decryptProfile(
          { ...enc, EncryptedPayloadContent: new Uint8Array([1, 2, 3]) },
          { certificate: pki.device, privateKey: pki.deviceKey },
        ),
      ),
    ];
    expect(new Set(errors.map((e) => `${e.code}|${e.message}|${String(e.cause)}`)).size).toBe(1);
    expect(errors[0]!.code).toBe('DECRYPTION_FAILED');
    // An empty list is a list: it opens.
    expect(
      (await decryptProfile(notAList, { certificate: pki.device, privateKey: pki.deviceKey })).PayloadContent,
    ).toEqual([]);
  });

  it.skipIf(!ok)('openssl cms -decrypt with the device key opens EncryptedPayloadContent', async () => {
    const enc = await encryptProfile(profile, { recipient: pki.device });
    const path = s.write('payloads.cms', enc.EncryptedPayloadContent as Uint8Array);
    const r = run('openssl', [
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      path,
      '-recip',
      s.path('device.pem'),
      '-inkey',
      s.path('device.key'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(parse(r.stdout, { reals: 'number' })).toEqual(profile.PayloadContent);
    expect(Buffer.from(r.stdout).equals(Buffer.from(buildXmlBytes(profile.PayloadContent)))).toBe(true);
  });
});
