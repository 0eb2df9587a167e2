import { describe, expect, it } from 'vitest';
import { ESCROW_IDENTITY_OWNER } from '../src/escrow-keyring';
import { SecretKind } from '../src/index';
import { setup } from './support';

describe('owners the package keeps for itself', () => {
  it('refuses to plant, read or delete a row under the escrow-identity owner through the vault', async () => {
    const { vault, keyring, storage } = setup();
    await keyring.current();
    const before = await storage.listSecrets({ owner: ESCROW_IDENTITY_OWNER });
    expect(before.items.length).toBeGreaterThan(0);
    const kind = before.items[0]!.kind;
    await expect(
      vault.put(ESCROW_IDENTITY_OWNER, 'filevault-escrow-identity:planted', 'x'),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(
      vault.read({ owner: ESCROW_IDENTITY_OWNER, kind, actor: 'alice', reason: 'curiosity' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(vault.delete(ESCROW_IDENTITY_OWNER, kind)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(vault.put('mdmkit:anything', SecretKind.bootstrapToken, 'x')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    const after = await storage.listSecrets({ owner: ESCROW_IDENTITY_OWNER });
    expect(after.items.map((r) => [r.kind, r.version])).toEqual(before.items.map((r) => [r.kind, r.version]));
  });
});
