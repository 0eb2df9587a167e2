import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conforms, type IssueBudget } from '../src/capped-issues';
import { statusItemDefinitions } from '../src/index';
import { fuzzRuns, jsonArbitrary } from './json-arbitrary';

const budget = (): IssueBudget => ({ issues: [], max: 100, omitted: 0 });

describe('conforms', () => {
  it('property: the same verdict as zod on every status item schema, and an issue whenever it says no', () => {
    for (const def of Object.values(statusItemDefinitions)) {
      const schema = def.schema;
      fc.assert(
        fc.property(fc.oneof(jsonArbitrary(schema), fc.jsonValue()), (value) => {
          const b = budget();
          const verdict = conforms(schema, value, ['StatusItems'], b);
          expect(verdict).toBe(schema.safeParse(value).success);
          if (!verdict) expect(b.issues.length + b.omitted).toBeGreaterThan(0);
        }),
        { numRuns: fuzzRuns * 2 },
      );
    }
  });

  it('lists the same first issue zod does, with the base path in front', () => {
    const schema = statusItemDefinitions['softwareupdate.failure-reason'].schema;
    const b = budget();
    expect(conforms(schema, { count: 'one' }, ['StatusItems', 'softwareupdate', 'failure-reason'], b)).toBe(
      false,
    );
    expect(b.issues).toEqual([
      { path: ['StatusItems', 'softwareupdate', 'failure-reason', 'count'], message: expect.any(String) },
    ]);
  });
});
