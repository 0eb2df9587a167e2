// The two published entries split the API: `@mdmkit/storage` is what applications use,
// `@mdmkit/storage/sql` is what adapter authors build on. A name published from both would be a
// second public path to maintain, and a core building block on the root entry would put adapter
// internals in front of every application; both are pinned here at runtime.
import { describe, expect, it } from 'vitest';
import * as root from '../src/index';
import * as sql from '../src/sql/index';

describe('published entries', () => {
  it('the sql entry and the root entry share no export', () => {
    const shared = Object.keys(sql).filter((name) => name in root);
    expect(shared).toEqual([]);
  });

  it('the root entry carries none of the SQL core building blocks', () => {
    const core = [
      'recordReport',
      'leaseStoreOf',
      'outboxStoreOf',
      'listEnrollmentsWith',
      'pushInfoOf',
      'exportWith',
      'depCursorOf',
      'featureMigrationsOf',
      'sqlContext',
      'migrated',
      'issuedLookups',
      'certificateLookups',
    ];
    for (const name of core) expect(sql).toHaveProperty(name);
    expect(core.filter((name) => name in root)).toEqual([]);
  });
});
