import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  activationSimple,
  assetReferencesOf,
  buildDeclaration,
  createDeclarationSet,
  credentialDefinitions,
  type DeclarationDefinition,
  declarationDefinitions,
  isMdmkitError,
  listDeclarationTypes,
  managementTest,
  passcodeSettings,
  serverTokenOf,
  softwareUpdateEnforcementSpecific,
} from '../src/index';
import { fuzzRuns, jsonArbitrary, sampleOf } from './json-arbitrary';
import { caught } from './caught';

const definitions = Object.values(declarationDefinitions) as DeclarationDefinition<string, object>[];

describe('every declaration of the schema release', () => {
  it('is generated: 38 types over the four kinds', () => {
    expect(listDeclarationTypes()).toHaveLength(38);
    const kinds = new Set(definitions.map((d) => d.kind));
    expect([...kinds].sort()).toEqual(['activation', 'asset', 'configuration', 'management']);
    for (const d of definitions) expect(d.type.startsWith(`com.apple.${d.kind}.`)).toBe(true);
  });

  for (const def of definitions) {
    it(`${def.type}: builds from sample input and round-trips through JSON`, () => {
      const payload = sampleOf(def.payload) as Record<string, unknown>;
      // Point every asset reference of the sample at an asset of its own, of the first type that fits.
      const refs = assetReferencesOf({ Type: def.type, Payload: payload });
      refs.forEach((r, i) => {
        const parent = r.path
          .slice(0, -1)
          .reduce<unknown>((n, k) => (n as Record<string | number, unknown>)[k], payload);
        (parent as Record<string | number, unknown>)[r.path.at(-1)!] = `asset-${i}`;
      });
      const built = def.build(payload, { identifier: `sample.${def.kind}` });
      expect(built.Type).toBe(def.type);
      expect(built.ServerToken).toMatch(/^[0-9a-f]{64}$/);
      const wire = JSON.stringify(built);
      const back = JSON.parse(wire);
      expect(back).toEqual(built);
      // The device's copy is a valid payload and carries the same token the server computed.
      expect(def.payload.safeParse(back.Payload).success).toBe(true);
      expect(serverTokenOf(back)).toBe(built.ServerToken);
      // A set must hold the configurations an activation names and the assets a declaration names.
      const configs = def.kind === 'activation' ? (back.Payload.StandardConfigurations as string[]) : [];
      const named = [...new Set(configs)].map((id) => managementTest({ Echo: 'x' }, { identifier: id }));
      refs.forEach((r, i) => {
        const asset = declarationDefinitions[
          r.types[0] as keyof typeof declarationDefinitions
        ] as DeclarationDefinition<string, object>;
        named.push(asset.build(sampleOf(asset.payload) as object, { identifier: `asset-${i}` }) as never);
      });
      expect(createDeclarationSet([back, ...named]).declarations[0]).toEqual(built);
    });
  }

  it('property: any valid payload builds, round-trips and keeps its token through JSON', () => {
    for (const def of definitions) {
      fc.assert(
        fc.property(jsonArbitrary(def.payload), (payload) => {
          const built = def.build(payload as object, { identifier: 'p' });
          const back = JSON.parse(JSON.stringify(built));
          expect(back).toEqual(built);
          expect(serverTokenOf(back)).toBe(built.ServerToken);
        }),
        { numRuns: fuzzRuns },
      );
    }
  });
});

describe('ServerToken', () => {
  it('is the same whatever the key order, and changes with any value', () => {
    const a = passcodeSettings({ MinimumLength: 8, RequireAlphanumericPasscode: true }, { identifier: 'pc' });
    const b = passcodeSettings({ RequireAlphanumericPasscode: true, MinimumLength: 8 }, { identifier: 'pc' });
    const c = passcodeSettings({ RequireAlphanumericPasscode: true, MinimumLength: 9 }, { identifier: 'pc' });
    expect(a.ServerToken).toBe(b.ServerToken);
    expect(c.ServerToken).not.toBe(a.ServerToken);
    expect(
      passcodeSettings({ MinimumLength: 8, RequireAlphanumericPasscode: true }, { identifier: 'pc2' })
        .ServerToken,
    ).not.toBe(a.ServerToken);
  });

  it('property: shuffling nested keys never changes it', () => {
    const shuffle = (v: unknown, seed: number): unknown => {
      if (Array.isArray(v)) return v.map((x) => shuffle(x, seed));
      if (v && typeof v === 'object') {
        const entries = Object.entries(v);
        entries.sort(
          (x, y) => ((x[0].length * seed) % 7) - ((y[0].length * seed) % 7) || (seed % 2 ? 1 : -1),
        );
        return Object.fromEntries(entries.map(([k, x]) => [k, shuffle(x, seed)]));
      }
      return v;
    };
    const def = declarationDefinitions['com.apple.configuration.softwareupdate.settings'];
    fc.assert(
      fc.property(jsonArbitrary(def.payload), fc.integer({ min: 1, max: 99 }), (payload, seed) => {
        const t1 = serverTokenOf({ Type: def.type, Identifier: 'x', Payload: payload });
        const t2 = serverTokenOf({ Type: def.type, Identifier: 'x', Payload: shuffle(payload, seed) });
        expect(t2).toBe(t1);
      }),
      { numRuns: fuzzRuns * 4 },
    );
  });

  it('cannot go stale: a built declaration is frozen and a copy of the input', () => {
    const input = { MinimumLength: 8 };
    const d = passcodeSettings(input, { identifier: 'pc' });
    input.MinimumLength = 4;
    expect(d.Payload.MinimumLength).toBe(8);
    expect(() => {
      (d.Payload as { MinimumLength: number }).MinimumLength = 2;
    }).toThrow(TypeError);
    expect(serverTokenOf(d)).toBe(d.ServerToken);
  });
});

describe('bad input to the builders', () => {
  it('a wrong key type is INVALID_DECLARATION with the key path', () => {
    const e = caught(() => passcodeSettings({ MinimumLength: 'eight' as never }));
    expect(e.code).toBe('INVALID_DECLARATION');
    expect(e.keyPath).toEqual(['Payload', 'MinimumLength']);
    expect(isMdmkitError(e)).toBe(true);
    expect(e.cause).toBeDefined();
  });

  it('a missing required key is INVALID_DECLARATION with the key path', () => {
    const e = caught(() => softwareUpdateEnforcementSpecific({ TargetOSVersion: '17.5' } as never));
    expect(e.code).toBe('INVALID_DECLARATION');
    expect(e.keyPath).toEqual(['Payload', 'TargetLocalDateTime']);
  });

  it('out-of-range integers, closed enums and non-integers are refused', () => {
    expect(caught(() => passcodeSettings({ MinimumLength: 2.5 })).keyPath).toEqual([
      'Payload',
      'MinimumLength',
    ]);
    expect(caught(() => passcodeSettings({ MaximumFailedAttempts: 0 })).keyPath).toEqual([
      'Payload',
      'MaximumFailedAttempts',
    ]);
  });

  it('identifiers: at most 64 UTF-8 bytes, not empty, no control characters', () => {
    expect(passcodeSettings({}, { identifier: 'a'.repeat(64) }).Identifier).toHaveLength(64);
    expect(caught(() => passcodeSettings({}, { identifier: 'a'.repeat(65) })).code).toBe(
      'INVALID_DECLARATION',
    );
    expect(caught(() => passcodeSettings({}, { identifier: 'é'.repeat(33) })).code).toBe(
      'INVALID_DECLARATION',
    );
    expect(caught(() => passcodeSettings({}, { identifier: '' })).code).toBe('INVALID_DECLARATION');
    expect(caught(() => passcodeSettings({}, { identifier: 'a\nb' })).code).toBe('INVALID_DECLARATION');
  });

  it('what is validated is what is sealed, even when a getter answers differently on each read', () => {
    let reads = 0;
    const payload = {
      get MinimumLength() {
        return reads++ === 0 ? 6 : ('six' as unknown as number);
      },
    };
    expect(caught(() => passcodeSettings(payload, { identifier: 'p' })).keyPath).toEqual([
      'Payload',
      'MinimumLength',
    ]);
    reads = 0;
    const input = { Type: 'com.apple.configuration.passcode.settings', Identifier: 'p', Payload: payload };
    expect(caught(() => createDeclarationSet([input])).keyPath).toEqual([0, 'Payload', 'MinimumLength']);
  });

  it('values JSON cannot carry are NOT_JSON, never a silent null', () => {
    const properties = declarationDefinitions['com.apple.management.properties'];
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(caught(() => properties.build({ n: Number.NaN })).code).toBe('NOT_JSON');
    expect(caught(() => properties.build({ n: Number.POSITIVE_INFINITY })).code).toBe('NOT_JSON');
    expect(caught(() => properties.build({ n: 10n })).code).toBe('NOT_JSON');
    expect(caught(() => properties.build({ d: new Date(0) })).code).toBe('NOT_JSON');
    expect(caught(() => properties.build({ a: [1, undefined] })).keyPath).toEqual(['a', 1]);
    expect(caught(() => properties.build(cyclic)).code).toBe('NOT_JSON');
  });

  it('<data> keys take base64 text, as JSON carries them', () => {
    const identity = credentialDefinitions['com.apple.credential.identity'].schema;
    expect(
      identity.safeParse({ Password: 'pw', Identity: Buffer.from([1, 2, 3]).toString('base64') }).success,
    ).toBe(true);
    const bad = identity.safeParse({ Password: 'pw', Identity: 'not base64!' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['Identity']);
  });

  it('buildDeclaration builds by a type named at run time and refuses unknown types', () => {
    const d = buildDeclaration(
      'com.apple.configuration.passcode.settings',
      { MinimumLength: 6 },
      { identifier: 'p' },
    );
    expect(d.Payload).toEqual({ MinimumLength: 6 });
    expect(caught(() => buildDeclaration('com.apple.configuration.nope' as never, {} as never)).code).toBe(
      'UNKNOWN_DECLARATION_TYPE',
    );
    expect(activationSimple({ StandardConfigurations: ['p'] }).Payload.StandardConfigurations).toEqual(['p']);
  });
});
