import { join } from 'node:path';
import { functionsWithoutExample } from '@mdmkit/test-support';
import { describe, expect, it } from 'vitest';

describe('public surface of the reference server', () => {
  it('every exported function has a TSDoc @example', () => {
    expect(functionsWithoutExample(join(import.meta.dirname, '../src'))).toEqual([]);
  });
});
