import { buildXmlBytes } from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';
import {
  buildProfile,
  encodeProfile,
  parseProfile,
  rawPayload,
  securityRootPayload,
  stableUuid,
  wifiManagedPayload,
} from '../src/index';
import { caught } from './caught';

const wifi = () => wifiManagedPayload({ SSID_STR: 'Office', EncryptionType: 'WPA2', Password: 'secret' });
const root = () => securityRootPayload({ PayloadContent: new Uint8Array([0x30, 0x00]) });

describe('profile assembler', () => {
  it('writes top-level keys, PayloadVersion 1 and an identifier per payload derived from the profile', () => {
    const p = buildProfile({
      identifier: 'com.example.net',
      displayName: 'Network',
      organization: 'Example',
      scope: 'System',
      removalDisallowed: true,
      consentText: { default: 'Agree?', de: 'Zustimmen?' },
      payloads: [wifi(), wifi(), root()],
    });
    expect(p.PayloadType).toBe('Configuration');
    expect(p.PayloadVersion).toBe(1);
    expect(p.PayloadScope).toBe('System');
    expect(p.ConsentText).toEqual({ default: 'Agree?', de: 'Zustimmen?' });
    expect(p.PayloadContent.map((d) => d.PayloadIdentifier)).toEqual([
      'com.example.net.com.apple.wifi.managed',
      'com.example.net.com.apple.wifi.managed.2',
      'com.example.net.com.apple.security.root',
    ]);
    expect(new Set(p.PayloadContent.map((d) => d.PayloadUUID)).size).toBe(3);
    expect(p.PayloadContent.every((d) => d.PayloadVersion === 1)).toBe(true);
  });

  it('stable identifiers: the same input builds byte-identical profiles; random otherwise', () => {
    const opts = { identifier: 'com.example.net', stableIdentifiers: true, payloads: [wifi(), root()] };
    const a = encodeProfile(buildProfile(opts));
    const b = encodeProfile(buildProfile(opts));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(buildProfile(opts).PayloadUUID).toBe(stableUuid('com.example.net'));
    expect(stableUuid('x')).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    const c = buildProfile({ identifier: 'com.example.net', payloads: [wifi()] });
    const d = buildProfile({ identifier: 'com.example.net', payloads: [wifi()] });
    expect(c.PayloadUUID).not.toBe(d.PayloadUUID);
  });

  it('removal options: a date or a duration (written as a real), not both; expiration date', () => {
    const at = new Date('2027-01-01T00:00:00Z');
    const p = buildProfile({
      identifier: 'a.b',
      payloads: [],
      durationUntilRemoval: 3600,
      expirationDate: at,
    });
    expect(new TextDecoder().decode(encodeProfile(p))).toContain(
      '<key>DurationUntilRemoval</key>\n\t<real>3600</real>',
    );
    const e = caught(() =>
      buildProfile({ identifier: 'a.b', payloads: [], durationUntilRemoval: 60, removalDate: at }),
    );
    expect(e.code).toBe('INVALID_PROFILE');
    expect(e.keyPath).toEqual(['DurationUntilRemoval']);
  });

  it('refuses a duplicate PayloadUUID with the payload index', () => {
    const e = caught(() =>
      buildProfile({
        identifier: 'a.b',
        payloads: [
          wifiManagedPayload({ SSID_STR: 'x' }, { uuid: 'SAME' }),
          root(),
          rawPayload('x.y', {}, { uuid: 'same' }),
        ],
      }),
    );
    expect(e.code).toBe('DUPLICATE_UUID');
    expect(e.keyPath).toEqual(['PayloadContent', 2, 'PayloadUUID']);
  });

  it('refuses a payload UUID equal to the profile UUID', () => {
    const e = caught(() =>
      buildProfile({
        identifier: 'a.b',
        uuid: 'U1',
        payloads: [root()].map(() =>
          securityRootPayload({ PayloadContent: new Uint8Array(1) }, { uuid: 'U1' }),
        ),
      }),
    );
    expect(e.code).toBe('DUPLICATE_UUID');
    expect(e.keyPath).toEqual(['PayloadContent', 0, 'PayloadUUID']);
  });

  it('refuses a duplicate PayloadIdentifier', () => {
    const e = caught(() =>
      buildProfile({
        identifier: 'a.b',
        payloads: [
          wifiManagedPayload({ SSID_STR: 'x' }, { identifier: 'p' }),
          root(),
          rawPayload('x.y', {}, { identifier: 'p' }),
        ],
      }),
    );
    expect(e.code).toBe('DUPLICATE_IDENTIFIER');
    expect(e.keyPath).toEqual(['PayloadContent', 2, 'PayloadIdentifier']);
  });

  it('refuses something that is not a built payload with a typed error and its index', () => {
    const e = caught(() =>
      buildProfile({
        identifier: 'a.b',
        payloads: [root(), { PayloadType: 'com.apple.wifi.managed', SSID_STR: 'x' } as never],
      }),
    );
    expect(e.code).toBe('INVALID_PROFILE');
    expect(e.keyPath).toEqual(['PayloadContent', 1]);
    expect(caught(() => buildProfile({ identifier: 'a.b', payloads: 'x' as never })).keyPath).toEqual([
      'PayloadContent',
    ]);
  });

  it('refuses top-level values the schema does not allow', () => {
    expect(
      caught(() => buildProfile({ identifier: 'a.b', payloads: [], scope: 'Everyone' as never })).keyPath,
    ).toEqual(['PayloadScope']);
    expect(caught(() => buildProfile({ identifier: '', payloads: [] })).code).toBe('INVALID_PROFILE');
    expect(
      caught(() => buildProfile({ identifier: 'a.b', payloads: [], consentText: { en: 5 } as never }))
        .keyPath,
    ).toEqual(['ConsentText', 'en']);
  });
});

describe('parse: lenient like every device-facing decoder', () => {
  const encode = (v: object) => buildXmlBytes(v as never);
  const base = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: 'a.b',
    PayloadUUID: 'P',
  };

  it('keeps an unknown payload type raw and lists it with its index', () => {
    const parsed = parseProfile(
      encode({
        ...base,
        PayloadContent: [
          {
            PayloadType: 'com.apple.future',
            PayloadVersion: 1,
            PayloadIdentifier: 'x',
            PayloadUUID: 'A',
            Knob: 3,
          },
        ],
      }),
    );
    expect(parsed.payloads[0]).toMatchObject({
      index: 0,
      payloadType: 'com.apple.future',
      known: false,
      valid: false,
    });
    expect(parsed.payloads[0]!.dict.Knob).toBe(3);
    expect(parsed.issues).toEqual([
      { path: ['PayloadContent', 0, 'PayloadType'], message: expect.stringContaining('not in the schema') },
    ]);
  });

  it('keeps keys newer than the schema release and wrong key types, listing each with its key path', () => {
    const parsed = parseProfile(
      encode({
        ...base,
        PayloadContent: [
          {
            PayloadType: 'com.apple.wifi.managed',
            PayloadVersion: 1,
            PayloadIdentifier: 'w',
            PayloadUUID: 'A',
            SSID_STR: 'x',
            FutureKey: true,
          },
          {
            PayloadType: 'com.apple.security.scep',
            PayloadVersion: 1,
            PayloadIdentifier: 's',
            PayloadUUID: 'B',
            PayloadContent: { URL: 7 },
          },
          {
            PayloadType: 'com.apple.mdm',
            PayloadVersion: 1,
            PayloadIdentifier: 'm',
            PayloadUUID: 'C',
            Topic: 't',
            ServerURL: 'https://x',
          },
        ],
      }),
    );
    const paths = parsed.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual([
      'PayloadContent.0.FutureKey',
      'PayloadContent.1.PayloadContent.URL',
      'PayloadContent.2.IdentityCertificateUUID',
    ]);
    expect(parsed.payloads[0]!.unknownKeys).toEqual(['FutureKey']);
    expect(parsed.payloads[0]!.dict.FutureKey).toBe(true);
    expect(parsed.payloads.map((p) => p.valid)).toEqual([false, false, false]);
  });

  it('lists duplicate PayloadUUIDs, missing common keys and a payload that is not a dictionary', () => {
    const parsed = parseProfile(
      encode({
        ...base,
        PayloadContent: [
          { PayloadType: 'x.y', PayloadVersion: 1, PayloadIdentifier: 'a', PayloadUUID: 'P' },
          'not a dict',
          { PayloadType: 'com.apple.security.root', PayloadContent: new Uint8Array(2) },
        ],
      }),
    );
    const paths = parsed.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('PayloadContent.1');
    expect(paths).toContain('PayloadContent.2.PayloadUUID');
    expect(paths).toContain('PayloadContent.2.PayloadVersion');
    expect(parsed.issues.find((i) => i.path.join('.') === 'PayloadContent.0.PayloadUUID')?.message).toContain(
      'same PayloadUUID as the profile',
    );
    expect(parsed.payloads).toHaveLength(2);
  });

  it('throws a typed error only when the bytes are not a profile at all', () => {
    for (const bad of ['not a plist', '<plist><array/></plist>', `<plist>${'<array>'.repeat(100)}`]) {
      expect(caught(() => parseProfile(new TextEncoder().encode(bad))).code).toBe('MALFORMED_PROFILE');
    }
    expect(caught(() => parseProfile(new Uint8Array(32), { limits: { maxBytes: 16 } })).code).toBe(
      'MALFORMED_PROFILE',
    );
  });
});
