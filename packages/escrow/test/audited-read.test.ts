import { decryptCmsSync, encryptCms } from '@mdmkit/crypto';
import { describe, expect, it } from 'vitest';
import * as escrow from '../src/index';
import { bootstrapTokenForDevice, SecretKind, storeBootstrapToken } from '../src/index';
import { setup } from './support';

const PRK = 'K7QP-2M4D-XW9R-H3TJ-8CNV-6FLB';

/** Private keys found in what a keyring's argument-less methods return (identities, lists). */
async function privateKeysFrom(keyring: object): Promise<unknown[]> {
  const found: unknown[] = [];
  const look = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) look(item);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    for (const child of Object.values(v)) {
      if ((child as { type?: unknown } | null)?.type === 'private') found.push(child);
    }
  };
  for (const name of Object.keys(keyring)) {
    const method = (keyring as Record<string, unknown>)[name];
    if (typeof method === 'function' && method.length === 0)
      look(await (method as () => unknown).call(keyring));
  }
  return found;
}

describe('the audited read is the only way to a device secret', () => {
  it('the keyring hands out no private key (it would open stored SecurityInfo results unaudited)', async () => {
    const { vault, keyring, storage } = setup();
    const { certificate } = await keyring.current();
    // The Mac's SecurityInfo answer is kept by the command queue as the raw report.
    const cms = await encryptCms({ content: new TextEncoder().encode(PRK), recipients: [certificate] });
    await escrow.escrowFileVaultKey({
      vault,
      keyring,
      udid: 'UDID-1',
      response: { SecurityInfo: { FDE_Enabled: true, FDE_PersonalRecoveryKeyCMS: cms } },
    });
    const keys = await privateKeysFrom(keyring);
    const opened = keys.filter((privateKey) => {
      // What a caller could do with it: decrypt the stored report without any audit event.
      try {
        const out = decryptCmsSync(cms, { recipients: [{ certificate, privateKey: privateKey as never }] });
        return new TextDecoder().decode(out.content) === PRK;
      } catch {
        return false;
      }
    });
    expect(opened).toEqual([]);
    expect(keys).toEqual([]);
    expect((await storage.listAuditEvents()).items).toEqual([]);
  });

  it('records the actor it checked, even when the request object changes under it', async () => {
    const { vault, storage } = setup();
    await vault.put('UDID-1', SecretKind.fileVaultRecoveryKey, PRK);
    let reads = 0;
    const request = {
      owner: 'UDID-1',
      kind: SecretKind.fileVaultRecoveryKey,
      reason: 'r',
      get actor() {
        reads++;
        return reads === 1 ? 'alice' : ' ';
      },
    };
    const outcome = await vault.read(request).then(
      (r) => r.event.actor,
      (e: { code?: string }) => e.code,
    );
    const events = (await storage.listAuditEvents()).items;
    expect(events.every((e) => e.actor.trim() !== '')).toBe(true);
    expect(['alice', 'INVALID_INPUT']).toContain(outcome);
  });

  it('hands out a bootstrap token only to an actor the caller names', async () => {
    const { vault, storage } = setup();
    await storeBootstrapToken(vault, 'UDID-1', new Uint8Array([1, 2, 3]));
    // An admin tool calling it must say who it is: the event must not claim the device read it.
    await expect(
      (bootstrapTokenForDevice as (...a: unknown[]) => Promise<unknown>)(vault, 'UDID-1'),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await storage.listAuditEvents()).items).toEqual([]);
    expect(
      await bootstrapTokenForDevice(vault, 'UDID-1', { actor: 'admin:bob', reason: 'migration' }),
    ).toEqual(new Uint8Array([1, 2, 3]));
    expect((await storage.listAuditEvents()).items).toMatchObject([
      { actor: 'admin:bob', owner: 'UDID-1', kind: 'bootstrap-token', reason: 'migration' },
    ]);
  });
});
