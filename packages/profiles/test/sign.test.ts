import { readFileSync } from 'node:fs';
import { parseCertificate } from '@mdmkit/crypto';
import { requirePeer } from '@mdmkit/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildProfile,
  encodeProfile,
  readSignedProfile,
  signProfile,
  verifySignedProfile,
  wifiManagedPayload,
} from '../src/index';
import { makeProfilePki, pkiFiles, type ProfilePki, run, Scratch } from './pki';
import { rejected } from './caught';

const ok = requirePeer({ name: 'openssl', probe: ['openssl', 'version'] }, 'OpenSSL profile signing interop');

describe('signed profiles', () => {
  let pki: ProfilePki;
  let plain: Uint8Array;
  const s = new Scratch();

  beforeAll(async () => {
    pki = await makeProfilePki();
    pkiFiles(s, pki);
    plain = encodeProfile(
      buildProfile({
        identifier: 'com.example.wifi',
        payloads: [wifiManagedPayload({ SSID_STR: 'Office' })],
      }),
    );
  });
  afterAll(() => s.dispose());

  it('sign, verify against the root through the chain carried in the message, and unwrap', async () => {
    const signed = await signProfile(plain, {
      certificate: pki.signer,
      privateKey: pki.signerKey,
      chain: [pki.intermediate],
    });
    const v = await verifySignedProfile(signed, { trusted: [pki.root] });
    expect(v.trusted).toBe(true);
    expect(Buffer.from(v.content).equals(Buffer.from(plain))).toBe(true);
    expect(v.signer.fingerprintSha256).toBe(pki.signer.fingerprintSha256);
    expect(v.certificates.map((c) => c.fingerprintSha256)).toContain(pki.intermediate.fingerprintSha256);
    const read = await readSignedProfile(signed, { trusted: [pki.root] });
    expect(read.payloads[0]!.payloadType).toBe('com.apple.wifi.managed');
    expect(read.issues).toEqual([]);
  });

  it('an unsigned profile is refused where a signature is required', async () => {
    expect((await rejected(verifySignedProfile(plain))).code).toBe('NOT_SIGNED');
  });

  it('attack: a changed byte in the signed content fails verification', async () => {
    const signed = await signProfile(plain, { certificate: pki.signer, privateKey: pki.signerKey });
    const needle = Buffer.from('Office');
    const at = Buffer.from(signed).indexOf(needle);
    expect(at).toBeGreaterThan(0);
    const tampered = Uint8Array.from(signed);
    tampered[at] = 'E'.charCodeAt(0);
    const e = await rejected(verifySignedProfile(tampered));
    expect(e.code).toBe('SIGNATURE_INVALID');
  });

  it('attack: garbage and truncated messages fail with a typed error, never a crash', async () => {
    const signed = await signProfile(plain, { certificate: pki.signer, privateKey: pki.signerKey });
    for (const bad of [
      signed.subarray(0, signed.length - 10),
      new Uint8Array([0x30, 0x82, 0xff, 0xff]),
      new Uint8Array(0),
    ]) {
      expect(['SIGNATURE_INVALID', 'NOT_SIGNED']).toContain((await rejected(verifySignedProfile(bad))).code);
    }
  });

  it('attack: a profile signed by a key that does not chain to the trusted root is refused', async () => {
    const signed = await signProfile(plain, {
      certificate: pki.signer,
      privateKey: pki.signerKey,
      chain: [pki.intermediate],
    });
    expect((await rejected(verifySignedProfile(signed, { trusted: [pki.otherRoot] }))).code).toBe(
      'UNTRUSTED_SIGNER',
    );
    // Without the intermediate in the message, no path to the root exists either.
    const bare = await signProfile(plain, { certificate: pki.signer, privateKey: pki.signerKey });
    expect((await rejected(verifySignedProfile(bare, { trusted: [pki.root] }))).code).toBe(
      'UNTRUSTED_SIGNER',
    );
  });

  describe.skipIf(!ok)('OpenSSL interop', () => {
    it('openssl cms -verify and openssl smime -verify accept our signature with the full chain', async () => {
      const signed = await signProfile(plain, {
        certificate: pki.signer,
        privateKey: pki.signerKey,
        chain: [pki.intermediate],
      });
      const path = s.write('signed.mobileconfig', signed);
      for (const cmd of ['cms', 'smime']) {
        const r = run('openssl', [
          cmd,
          '-verify',
          '-inform',
          'DER',
          '-in',
          path,
          '-CAfile',
          s.path('root.pem'),
          '-purpose',
          'any',
        ]);
        expect(r.stderr).toContain('Verification successful');
        expect(r.status).toBe(0);
        expect(Buffer.from(r.stdout).equals(Buffer.from(plain))).toBe(true);
      }
    });

    it('a profile signed by openssl smime -sign -nodetach verifies and unwraps (DER, PEM and S/MIME)', async () => {
      const input = s.write('plain.mobileconfig', plain);
      for (const outform of ['DER', 'PEM', 'SMIME']) {
        const out = s.path(`openssl.${outform}`);
        const r = run('openssl', [
          'smime',
          '-sign',
          '-nodetach',
          '-binary',
          '-in',
          input,
          '-out',
          out,
          '-outform',
          outform,
          '-signer',
          s.path('signer.pem'),
          '-inkey',
          s.path('signer.key'),
          '-certfile',
          s.path('intermediate.pem'),
        ]);
        expect(r.status, r.stderr).toBe(0);
        const bytes = new Uint8Array(readFileSync(out));
        const v = await verifySignedProfile(bytes, { trusted: [pki.root] });
        expect(v.trusted).toBe(true);
        expect(Buffer.from(v.content).equals(Buffer.from(plain))).toBe(true);
        expect(v.signer.fingerprintSha256).toBe(parseCertificate(pki.signer.pem).fingerprintSha256);
      }
    });

    it('openssl rejects the tampered message too', async () => {
      const signed = Uint8Array.from(
        await signProfile(plain, {
          certificate: pki.signer,
          privateKey: pki.signerKey,
          chain: [pki.intermediate],
        }),
      );
      signed[Buffer.from(signed).indexOf(Buffer.from('Office'))] = 0x45;
      const path = s.write('tampered.mobileconfig', signed);
      const r = run('openssl', [
        'cms',
        '-verify',
        '-inform',
        'DER',
        '-in',
        path,
        '-CAfile',
        s.path('root.pem'),
        '-purpose',
        'any',
      ]);
      expect(r.status).not.toBe(0);
    });
  });
});
