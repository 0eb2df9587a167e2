import { join } from 'node:path';
import { functionsWithoutExample } from '@mdmkit/test-support';
import { describe, expect, it } from 'vitest';
import * as escrow from '../src/index';

describe('public surface of @mdmkit/escrow', () => {
  it('every exported function has a TSDoc @example', () => {
    expect(functionsWithoutExample(join(import.meta.dirname, '../src'))).toEqual([]);
  });

  it('offers no way to open a device secret other than the audited read', () => {
    const openers = Object.keys(escrow).filter((k) => /open|decrypt|unseal|reveal/i.test(k));
    expect(openers).toEqual([]);
    const vaultMethods = Object.keys(
      escrow.createSecretVault({
        secrets: {} as never,
        audit: {} as never,
        keyProvider: {
          id: 'x',
          wrapKey: async () => ({ keyId: '', wrapped: new Uint8Array() }),
          unwrapKey: async () => new Uint8Array(),
        },
      }),
    ).sort();
    expect(vaultMethods).toEqual(['delete', 'has', 'put', 'read', 'rewrapAll']);
  });
});
