import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { SchemaKey } from '../src/model';
import { schemasDir } from '../src/paths';
import { generateProfiles, mergeKeys, PROFILES_DIR, payloadTypeName } from '../src/profiles';
import { readRelease } from '../src/generate';

const dir = schemasDir();

describe('profile payload generator', () => {
  it('names payload types without the com.apple. prefix, and bare types by what they are', () => {
    expect(payloadTypeName('com.apple.security.scep')).toBe('SecurityScep');
    expect(payloadTypeName('com.apple.MCX.FileVault2')).toBe('MCXFileVault2');
    expect(payloadTypeName('com.apple.loginwindow')).toBe('Loginwindow');
    expect(payloadTypeName('loginwindow')).toBe('LoginWindowLoginItems');
    expect(payloadTypeName('.GlobalPreferences')).toBe('GlobalPreferences');
  });

  it('merging files of one type: required only where every file requires it; enums and sub-keys united', () => {
    const a: SchemaKey[] = [
      { key: 'Type', type: '<string>', presence: 'required', rangelist: ['Credential'] },
      { key: 'Realm', type: '<string>', presence: 'required' },
      { key: 'Data', type: '<dictionary>', subkeys: [{ key: 'X', type: '<string>', presence: 'required' }] },
    ];
    const b: SchemaKey[] = [
      { key: 'Type', type: '<string>', presence: 'required', rangelist: ['Credential', 'Redirect'] },
      { key: 'Data', type: '<dictionary>', subkeys: [{ key: 'Y', type: '<integer>' }] },
      { key: 'URLs', type: '<array>', presence: 'required' },
    ];
    const merged = mergeKeys([a, b]);
    expect(merged.map((k) => [k.key, k.presence])).toEqual([
      ['Type', 'required'],
      ['Realm', 'optional'],
      ['Data', 'optional'],
      ['URLs', 'optional'],
    ]);
    expect(merged[0]!.rangelist).toEqual(['Credential', 'Redirect']);
    expect(merged[2]!.subkeys!.map((k) => [k.key, k.presence])).toEqual([
      ['X', 'optional'],
      ['Y', 'optional'],
    ]);
  });
});

describe.skipIf(!dir)('profile payloads generated from the pinned schemas', () => {
  const out = dir ? generateProfiles(readRelease(dir), dir) : new Map<string, string>();

  it('one file per payload type: 120 types from 128 files, com.apple.MCX merged from six', () => {
    const payloads = [...out.keys()].filter((p) => p.startsWith(`${PROFILES_DIR}/payloads/`));
    expect(payloads).toHaveLength(120);
    const mcx = out.get(`${PROFILES_DIR}/payloads/com-apple-mcx.ts`)!;
    for (const f of ['Accounts', 'EnergySaver', 'FileVault2', 'Mobililty', 'TimeServer', 'WiFi']) {
      expect(mcx).toContain(`com.apple.MCX(${f}).yaml`);
    }
    // Several of the six files allow one payload per profile on macOS: the merged type does too.
    expect(mcx).toMatch(/multiple: \{\s*macOS: false,\s*\}/);
    expect(out.get(`${PROFILES_DIR}/payloads/loginwindow.ts`)).toContain("payloadType: 'loginwindow'");
    expect(out.get(`${PROFILES_DIR}/payloads/com-apple-loginwindow.ts`)).toContain(
      "payloadType: 'com.apple.loginwindow'",
    );
  });

  it('copies no description or content text from the profile schemas', () => {
    const prose = new Set<string>();
    // Anchors make the parsed trees cyclic: visit each node once.
    const seen = new Set<object>();
    const collect = (v: unknown) => {
      if (v && typeof v === 'object') {
        if (seen.has(v)) return;
        seen.add(v);
      }
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if ((k === 'content' || k === 'description' || k === 'title') && typeof x === 'string') {
            // A title that is only a key name is a fact, not prose.
            for (const sentence of x.split(/(?<=[.:])\s+|\n/))
              if (sentence.trim().length >= 32 && /\s/.test(sentence.trim())) prose.add(sentence.trim());
          } else collect(x);
        }
      }
    };
    for (const f of readdirSync(join(dir!, 'mdm/profiles'))) {
      collect(parse(readFileSync(join(dir!, 'mdm/profiles', f), 'utf8'), { maxAliasCount: -1 }));
    }
    expect(prose.size).toBeGreaterThan(1000);
    const all = [...out.values()].join('\n');
    expect([...prose].filter((p) => all.includes(p))).toEqual([]);
  });
});
