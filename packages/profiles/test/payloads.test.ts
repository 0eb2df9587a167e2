import { PlistReal, real } from '@mdmkit/plist';
import { requirePeer } from '@mdmkit/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildPayload,
  buildProfile,
  encodeProfile,
  getPayloadDefinition,
  listPayloadTypes,
  applicationaccessPayload,
  mdmPayload,
  type Payload,
  ProfileError,
  parseProfile,
  rawPayload,
  securityScepPayload,
  universalaccessPayload,
} from '../src/index';
import { plistlibJson, Scratch } from './pki';
import { sampleFor } from './sample';

const types = listPayloadTypes();

/** `v` with every PlistReal as its number: what parseProfile (reals as numbers) gives back. */
function realsAsNumbers(v: unknown): unknown {
  if (v instanceof PlistReal) return v.value;
  if (Array.isArray(v)) return v.map(realsAsNumbers);
  if (v && typeof v === 'object' && !(v instanceof Date) && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, realsAsNumbers(x)]));
  }
  return v;
}

function samplePayload(type: string, optionalDepth = 2): Payload {
  const def = getPayloadDefinition(type)!;
  return def.build(sampleFor(def.schema, optionalDepth) as object);
}

describe('every generated payload type', () => {
  it('the schema release has 120 payload types, each with its sources and availability', () => {
    expect(types).toHaveLength(120);
    for (const t of types) {
      const def = getPayloadDefinition(t)!;
      expect(def.payloadType).toBe(t);
      expect(def.sources.length).toBeGreaterThan(0);
      // The schema lists no OS for com.apple.security.wapi-identity; every other type has some.
      if (t !== 'com.apple.security.wapi-identity')
        expect(Object.keys(def.support).length).toBeGreaterThan(0);
    }
    expect(getPayloadDefinition('com.apple.MCX')!.sources).toHaveLength(6);
  });

  it.each(types)('%s builds from sample input and round-trips through the plist', (type) => {
    for (const depth of [0, 3]) {
      const payload = samplePayload(type, depth);
      const profile = buildProfile({ identifier: 'com.example.roundtrip', payloads: [payload] });
      const parsed = parseProfile(encodeProfile(profile));
      expect(parsed.issues).toEqual([]);
      expect(parsed.payloads).toHaveLength(1);
      const p = parsed.payloads[0]!;
      expect(p.payloadType).toBe(type);
      expect(p.valid).toBe(true);
      expect(p.dict).toEqual(realsAsNumbers(profile.PayloadContent[0]));
    }
  });
});

const python = requirePeer(
  { name: 'python3', probe: ['python3', '-c', 'import plistlib'] },
  'plistlib interop',
);

describe.skipIf(!python)('python3 plistlib reads the profiles we build', () => {
  const s = new Scratch();
  afterAll(() => s.dispose());

  it('one profile with a payload of every type: plistlib sees every PayloadType and UUID', () => {
    const payloads = types.map((t) => samplePayload(t, 3));
    const profile = buildProfile({ identifier: 'com.example.all', displayName: 'All payloads', payloads });
    const path = s.write('all.mobileconfig', encodeProfile(profile));
    const seen = plistlibJson(path) as {
      PayloadType: string;
      PayloadContent: { PayloadType: string; PayloadUUID: string; PayloadVersion: number }[];
    };
    expect(seen.PayloadType).toBe('Configuration');
    expect(seen.PayloadContent.map((p) => p.PayloadType)).toEqual(types);
    expect(seen.PayloadContent.map((p) => p.PayloadUUID)).toEqual(
      profile.PayloadContent.map((p) => p.PayloadUUID),
    );
    expect(new Set(seen.PayloadContent.map((p) => p.PayloadVersion))).toEqual(new Set([1]));
  });
});

describe('strict when we build: typed errors with the key path', () => {
  function caught(f: () => unknown): ProfileError {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(ProfileError);
      return e as ProfileError;
    }
    throw new Error('no error thrown');
  }

  it('a wrong key type names the key path', () => {
    const e = caught(() => securityScepPayload({ PayloadContent: { URL: 42 } } as never));
    expect(e.code).toBe('INVALID_PAYLOAD');
    expect(e.keyPath).toEqual(['PayloadContent', 'URL']);
  });

  it('a missing required key names the key', () => {
    const e = caught(() => mdmPayload({ Topic: 'com.apple.mgmt.x', ServerURL: 'https://x' } as never));
    expect(e.code).toBe('INVALID_PAYLOAD');
    expect(e.keyPath).toEqual(['IdentityCertificateUUID']);
  });

  it('a value outside the allowed list is refused', () => {
    const e = caught(() =>
      securityScepPayload({ PayloadContent: { URL: 'https://x', Keysize: 3000 as never } }),
    );
    expect(e.keyPath).toEqual(['PayloadContent', 'Keysize']);
  });

  it('an unknown payload type is refused by the typed lookup, and accepted only through rawPayload', () => {
    const e = caught(() => buildPayload('com.apple.not.a.type' as never, {} as never));
    expect(e.code).toBe('UNKNOWN_PAYLOAD_TYPE');
    expect(rawPayload('com.apple.not.a.type', { A: 1 }).payloadType).toBe('com.apple.not.a.type');
  });

  it('content may not set the keys the assembler owns', () => {
    const e = caught(() => rawPayload('com.example.x', { PayloadUUID: 'X' }));
    expect(e.code).toBe('INVALID_PAYLOAD');
    expect(e.keyPath).toEqual(['PayloadUUID']);
  });

  it('error messages carry key paths, never the values given', () => {
    const e = caught(() =>
      securityScepPayload({ PayloadContent: { URL: 'https://x', Challenge: 7 as never } }),
    );
    expect(e.message).toContain('PayloadContent.Challenge');
    expect(e.message).not.toContain('7');
  });

  it('a key the schema types as real is written as <real> even when whole, and takes real()', () => {
    const xml = (p: Payload) =>
      new TextDecoder().decode(encodeProfile(buildProfile({ identifier: 'com.example.r', payloads: [p] })));
    expect(xml(applicationaccessPayload({ safariAcceptCookies: 2 }))).toMatch(
      /<key>safariAcceptCookies<\/key>\s*<real>2<\/real>/,
    );
    expect(xml(applicationaccessPayload({ safariAcceptCookies: real(1.5) }))).toMatch(
      /<key>safariAcceptCookies<\/key>\s*<real>1.5<\/real>/,
    );
    expect(xml(universalaccessPayload({ contrast: 1 }))).toMatch(/<key>contrast<\/key>\s*<real>1<\/real>/);
    expect(caught(() => universalaccessPayload({ contrast: real(2) })).keyPath).toEqual(['contrast']);
    expect(caught(() => applicationaccessPayload({ safariAcceptCookies: real(3) as never })).code).toBe(
      'INVALID_PAYLOAD',
    );
  });

  it('a built payload keeps the content as validated: later changes to the object given do not reach it', () => {
    const content: Record<string, unknown> = { IdentityCertificateUUID: 'U', Topic: 't', ServerURL: 's' };
    const payload = mdmPayload(content as never);
    content.AccessRights = 'not a number';
    const profile = buildProfile({ identifier: 'com.example.m', payloads: [payload] });
    expect(profile.PayloadContent[0]!.AccessRights).toBeUndefined();
  });

  it('values a property list cannot hold are refused at build with their key path, under unknown keys too', () => {
    const base = { IdentityCertificateUUID: 'U', Topic: 't', ServerURL: 's' };
    const cases: [Record<string, unknown>, (string | number)[]][] = [
      [{ Extra: null }, ['Extra']],
      [{ Extra: () => 1 }, ['Extra']],
      [{ Extra: { Deeper: [1, Symbol('x')] } }, ['Extra', 'Deeper', 1]],
      [{ Extra: [1, undefined] }, ['Extra', 1]],
      [{ Extra: new Map() }, ['Extra']],
      [{ Extra: new Date(Number.NaN) }, ['Extra']],
      [{ Extra: 'a\u0001b' }, ['Extra']],
      [{ Extra: ['\ud800'] }, ['Extra', 0]],
      [{ 'Bad\u0000Key': 1 }, ['Bad\u0000Key']],
      [{ Topic: 't\u001b' }, ['Topic']],
    ];
    for (const [extra, path] of cases) {
      const e = caught(() => mdmPayload({ ...base, ...extra } as never));
      expect(e.code, path.join('.')).toBe('INVALID_PAYLOAD');
      expect(e.keyPath).toEqual(path);
    }
    const self: Record<string, unknown> = {};
    self.Self = self;
    expect(caught(() => mdmPayload({ ...base, Extra: self } as never)).keyPath).toEqual(['Extra', 'Self']);
  });

  it('text XML 1.0 cannot carry is refused in the profile options as well', () => {
    const e = caught(() =>
      buildProfile({ identifier: 'com.example.o', displayName: 'x\u0007', payloads: [] }),
    );
    expect(e.code).toBe('INVALID_PROFILE');
    expect(e.keyPath).toEqual(['PayloadDisplayName']);
  });

  it('payload identity options that are not strings are refused by the assembler', () => {
    const p = (o: object) =>
      mdmPayload({ IdentityCertificateUUID: 'U', Topic: 't', ServerURL: 's' }, o as never);
    for (const [o, key] of [
      [{ uuid: 5 }, 'PayloadUUID'],
      [{ identifier: ['x'] }, 'PayloadIdentifier'],
      [{ displayName: {} }, 'PayloadDisplayName'],
      [{ organization: 1 }, 'PayloadOrganization'],
    ] as const) {
      const e = caught(() => buildProfile({ identifier: 'com.example.o', payloads: [p(o)] }));
      expect(e.code, key).toBe('INVALID_PROFILE');
      expect(e.keyPath).toEqual(['PayloadContent', 0, key]);
    }
  });
});
