import { join } from 'node:path';
import { functionsWithoutExample } from '@mdmkit/test-support';
import { describe, expect, it } from 'vitest';

describe('public surface of @mdmkit/testkit', () => {
  it('every exported function of the virtual device has a TSDoc @example', () => {
    expect(functionsWithoutExample(join(import.meta.dirname, '../src/virtual-device'))).toEqual([]);
  });

  it('every exported function of the fleet has a TSDoc @example', () => {
    expect(functionsWithoutExample(join(import.meta.dirname, '../src/fleet'))).toEqual([]);
  });
});
