import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { functionsWithoutExample } from '@mdmkit/test-support';
import { describe, expect, it } from 'vitest';
import * as main from '../src/index';
import { listRequestTypes } from '../src/index';

const pkg = join(import.meta.dirname, '..');
const domainsDir = join(pkg, 'src/generated/domains');
const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
};
const builderOf = (rt: string) => {
  const m = /^([A-Z]+)(?=[A-Z][a-z]|$)/.exec(rt);
  const camel =
    m && m[1]!.length > 1 ? m[1]!.toLowerCase() + rt.slice(m[1]!.length) : rt[0]!.toLowerCase() + rt.slice(1);
  return `${camel}Command`;
};

describe('public surface of @mdmkit/commands', () => {
  it('every exported function has a TSDoc @example (generated builders included)', () => {
    expect(functionsWithoutExample(join(pkg, 'src'))).toEqual([]);
  });

  it('every builder is named <requestType>Command and exported from the main entry point', () => {
    for (const rt of listRequestTypes())
      expect(typeof (main as Record<string, unknown>)[builderOf(rt)]).toBe('function');
  });

  it('validators and definitions are not in the main entry point', () => {
    const names = Object.keys(main);
    expect(names.filter((n) => n.endsWith('Schema') || n.endsWith('Definition'))).toEqual([]);
    expect(names).not.toContain('commandDefinitions');
    // 66 builders plus the API (lookups, availability, access rights, errors, decoding).
    expect(names.length).toBeLessThan(100);
  });

  it('each builder belongs to exactly one domain entry point, and each one is in the exports map', async () => {
    const domains = readdirSync(domainsDir)
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    const mapped = Object.keys(manifest.exports)
      .filter((k) => k !== '.' && k !== './package.json' && k !== './schemas')
      .map((k) => k.slice(2))
      .sort();
    expect(mapped).toEqual(domains);
    const seen = new Map<string, string>();
    for (const d of domains) {
      const mod = (await import(join(domainsDir, `${d}.ts`))) as Record<string, unknown>;
      for (const name of Object.keys(mod)) {
        expect(seen.has(name), `${name} in ${seen.get(name)} and ${d}`).toBe(false);
        seen.set(name, d);
      }
    }
    expect([...seen.keys()].sort()).toEqual(listRequestTypes().map(builderOf).sort());
  });

  it('generated comments read as sentences', () => {
    const dir = join(pkg, 'src/generated/commands');
    for (const f of readdirSync(dir)) {
      const code = readFileSync(join(dir, f), 'utf8');
      expect(code).not.toMatch(/Builds a `/);
      expect(code).toMatch(/ \* The request keys of the `[A-Za-z]+` command, without `RequestType`\./);
      expect(code).toMatch(/ \* Creates the `[A-Za-z]+` command after validating its payload\./);
    }
  });
});
