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
