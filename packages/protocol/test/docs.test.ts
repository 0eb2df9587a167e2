import { join } from 'node:path';
import { functionsWithoutExample } from '@mdmkit/test-support';
import { describe, expect, it } from 'vitest';
import * as main from '../src/index';
import * as schema from '../src/schema';

describe('public surface of @mdmkit/protocol', () => {
  it('every exported function has a TSDoc @example', () => {
    expect(functionsWithoutExample(join(import.meta.dirname, '../src'))).toEqual([]);
  });

  it('generator plumbing lives behind @mdmkit/protocol/schema only', () => {
    const plumbing = [
      'validate',
      'compileCheck',
      'parseBody',
      'toPlistValue',
      'identityShape',
      'plistData',
      'plistDate',
    ];
    for (const name of plumbing) {
      expect(Object.keys(main)).not.toContain(name);
      expect(Object.keys(schema)).toContain(name);
    }
  });
});

describe('examples that parse a body themselves', () => {
  it('parse reals as numbers, as the *Dict functions expect', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const dirs = [join(import.meta.dirname, '../src'), join(import.meta.dirname, '../../commands/src')];
    const calls: string[] = [];
    for (const dir of dirs) {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
        const text = readFileSync(join(dir, f), 'utf8');
        for (const m of text.matchAll(/^ \* .*\bparse\(body[^)]*\)/gm)) calls.push(`${f}: ${m[0]}`);
      }
    }
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((c) => !c.includes("reals: 'number'"))).toEqual([]);
  });

  it('a real kept exact is described as a real, not as a dictionary', async () => {
    const { PlistReal } = await import('@mdmkit/plist');
    expect(schema.describeValue(new PlistReal(1))).toBe('real (PlistReal)');
  });
});
