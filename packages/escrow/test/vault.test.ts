import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalKeyProvider } from '@mdmkit/crypto';
import type { AuditEventStore } from '@mdmkit/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { createSecretVault, SecretKind } from '../src/index';
import { capturingLogger, dumpOf, provider, setup } from './support';

const SECRET = 'ABCD-EFGH-JKLM-NPQR-STUV-WXYZ';

describe('secret vault', () => {
  it('returns a secret only with an actor and a reason, and records the event first', async () => {
    const { vault, storage } = setup();
    await vault.put('UDID-1', SecretKind.fileVaultRecoveryKey, SECRET);
    for (const bad of [
      { actor: '', reason: 'x' },
      { actor: 'alice', reason: ' ' },
      { reason: 'x' },
      { actor: 'alice' },
    ]) {
      await expect(
        vault.read({ owner: 'UDID-1', kind: SecretKind.fileVaultRecoveryKey, ...bad } as never),
      ).rejects.toMatchObject({ name: 'EscrowError', code: 'INVALID_INPUT' });
    }
    expect((await storage.listAuditEvents()).items).toEqual([]);
    const r = await vault.read({
      owner: 'UDID-1',
      kind: SecretKind.fileVaultRecoveryKey,
      actor: 'alice',
      reason: 'user locked out',
    });
    expect(r.text).toBe(SECRET);
    const events = (await storage.listAuditEvents({ owner: 'UDID-1' })).items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: 'alice',
      action: 'secret.read',
      kind: 'filevault-prk',
      reason: 'user locked out',
    });
    expect(r.event.id).toBe(events[0]!.id);
  });

  it('hands out nothing when the audit event cannot be recorded', async () => {
    const { storage, keyProvider } = setup();
    const failing: AuditEventStore = {
      appendAuditEvent: async () => {
        throw new Error('audit database down');
      },
      listAuditEvents: async () => ({ items: [] }),
    };
    const vault = createSecretVault({ secrets: storage, audit: failing, keyProvider });
    await vault.put('UDID-1', SecretKind.bootstrapToken, SECRET);
    await expect(
      vault.read({ owner: 'UDID-1', kind: SecretKind.bootstrapToken, actor: 'a', reason: 'r' }),
    ).rejects.toThrow('audit database down');
  });

  it('keeps no plaintext in storage and writes no secret to the log', async () => {
    const { vault, storage, logger } = setup();
    await vault.put('UDID-1', SecretKind.fileVaultRecoveryKey, SECRET);
    await vault.put('UDID-1', SecretKind.localAdminPassword, 'hunter2-hunter2');
    await vault.read({
      owner: 'UDID-1',
      kind: SecretKind.fileVaultRecoveryKey,
      actor: 'alice',
      reason: 'check',
    });
    await vault.rewrapAll();
    const dump = await dumpOf(storage);
    expect(dump).toContain('filevault-prk');
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain('hunter2');
    expect(dump).not.toContain(Buffer.from(SECRET).toString('base64'));
    const log = logger.lines.join('\n');
    expect(log).toContain('secret read');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain('hunter2');
  });

  it('records an attempt on a row that does not open (the event comes before opening)', async () => {
    const { vault, storage } = setup();
    await vault.put('UDID-1', SecretKind.fileVaultRecoveryKey, SECRET);
    const rec = (await storage.getSecret('UDID-1', SecretKind.fileVaultRecoveryKey))!;
    await storage.putSecret({ owner: 'UDID-2', kind: SecretKind.fileVaultRecoveryKey, sealed: rec.sealed });
    await expect(
      vault.read({ owner: 'UDID-2', kind: SecretKind.fileVaultRecoveryKey, actor: 'mallory', reason: 'x' }),
    ).rejects.toMatchObject({ code: 'SECRET_UNREADABLE' });
    expect((await storage.listAuditEvents()).items).toMatchObject([
      { actor: 'mallory', owner: 'UDID-2', kind: SecretKind.fileVaultRecoveryKey, action: 'secret.read' },
    ]);
  });

  it('refuses a ciphertext moved to another row (device or kind) with SECRET_UNREADABLE', async () => {
    const { vault, storage } = setup();
    await vault.put('UDID-1', SecretKind.fileVaultRecoveryKey, SECRET);
    await vault.put('UDID-2', SecretKind.fileVaultRecoveryKey, 'OTHER-KEY');
    const one = (await storage.getSecret('UDID-1', SecretKind.fileVaultRecoveryKey))!;
    await storage.putSecret({ owner: 'UDID-2', kind: SecretKind.fileVaultRecoveryKey, sealed: one.sealed });
    await storage.putSecret({ owner: 'UDID-1', kind: SecretKind.localAdminPassword, sealed: one.sealed });
    for (const [owner, kind] of [
      ['UDID-2', SecretKind.fileVaultRecoveryKey],
      ['UDID-1', SecretKind.localAdminPassword],
    ] as const) {
      await expect(vault.read({ owner, kind, actor: 'mallory', reason: 'swap' })).rejects.toMatchObject({
        code: 'SECRET_UNREADABLE',
      });
    }
  });

  it('refuses a corrupted row and a row of a provider it was not given, with typed errors', async () => {
    const { vault, storage } = setup();
    await vault.put('UDID-1', SecretKind.fileVaultRecoveryKey, SECRET);
    const rec = (await storage.getSecret('UDID-1', SecretKind.fileVaultRecoveryKey))!;
    const flipped = new Uint8Array(rec.sealed);
    flipped[flipped.length - 3]! ^= 1;
    await storage.putSecret({ owner: 'UDID-1', kind: 'flipped', sealed: flipped });
    await storage.putSecret({ owner: 'UDID-1', kind: 'garbage', sealed: new Uint8Array([1, 2, 3]) });
    for (const kind of ['flipped', 'garbage']) {
      await expect(vault.read({ owner: 'UDID-1', kind, actor: 'a', reason: 'r' })).rejects.toMatchObject({
        code: 'SECRET_UNREADABLE',
      });
    }
    const other = createSecretVault({ secrets: storage, audit: storage, keyProvider: provider(9) });
    await expect(
      other.read({ owner: 'UDID-1', kind: SecretKind.fileVaultRecoveryKey, actor: 'a', reason: 'r' }),
    ).rejects.toMatchObject({ code: 'WRONG_KEY_PROVIDER' });
    // Same provider id, other key: the key does not open it.
    const impostor = createSecretVault({
      secrets: storage,
      audit: storage,
      keyProvider: provider(9, 'static-7'),
    });
    await expect(
      impostor.read({ owner: 'UDID-1', kind: SecretKind.fileVaultRecoveryKey, actor: 'a', reason: 'r' }),
    ).rejects.toMatchObject({ code: 'SECRET_UNREADABLE' });
    // Nothing was overwritten by any of it.
    expect(
      (await vault.read({ owner: 'UDID-1', kind: SecretKind.fileVaultRecoveryKey, actor: 'a', reason: 'r' }))
        .text,
    ).toBe(SECRET);
    await expect(
      vault.read({ owner: 'UDID-9', kind: 'none', actor: 'a', reason: 'r' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('moves every row to a new provider, reading old rows meanwhile, without loss', async () => {
    const { storage, vault } = setup(provider(1));
    for (let i = 0; i < 250; i++) await vault.put(`UDID-${i}`, SecretKind.bootstrapToken, `token-${i}`);
    const next = createSecretVault({
      secrets: storage,
      audit: storage,
      keyProvider: provider(2),
      previousKeyProviders: [provider(1)],
    });
    // Mid-move, both old and new rows open.
    await next.put('UDID-new', SecretKind.bootstrapToken, 'fresh');
    const report = await next.rewrapAll();
    expect(report).toEqual({ rewrapped: 250, current: 1, replacedMeanwhile: 0, unreadable: [] });
    const onlyNew = createSecretVault({ secrets: storage, audit: storage, keyProvider: provider(2) });
    for (const i of [0, 123, 249]) {
      expect(
        (await onlyNew.read({ owner: `UDID-${i}`, kind: SecretKind.bootstrapToken, actor: 'a', reason: 'r' }))
          .text,
      ).toBe(`token-${i}`);
    }
    expect((await onlyNew.rewrapAll()).rewrapped).toBe(0);
  });

  it('never overwrites a secret another process stored while it re-wraps', async () => {
    const { storage, vault } = setup(provider(1));
    await vault.put('UDID-1', SecretKind.fileVaultRecoveryKey, 'old-key');
    const next = createSecretVault({
      secrets: storage,
      audit: storage,
      keyProvider: provider(2),
      previousKeyProviders: [provider(1)],
    });
    // Another process stores a new key between our read of the row and our write.
    const realPut = storage.putSecret.bind(storage);
    let raced = false;
    storage.putSecret = async (input) => {
      if (!raced) {
        raced = true;
        await vault.put('UDID-1', SecretKind.fileVaultRecoveryKey, 'new-key');
      }
      return realPut(input);
    };
    const report = await next.rewrapAll();
    storage.putSecret = realPut;
    expect(report.replacedMeanwhile).toBe(1);
    expect(
      (await next.read({ owner: 'UDID-1', kind: SecretKind.fileVaultRecoveryKey, actor: 'a', reason: 'r' }))
        .text,
    ).toBe('new-key');
  });

  it('re-wraps every other row when one row does not open, and reports that row', async () => {
    const { storage, vault } = setup(provider(1));
    // Sorted first: a corrupted row and a row sealed by a provider this vault was not given.
    await storage.putSecret({ owner: 'AAA-1', kind: 'app-secret', sealed: new Uint8Array([1, 2, 3]) });
    const stranger = createSecretVault({ secrets: storage, audit: storage, keyProvider: provider(5) });
    await stranger.put('AAA-2', 'app-secret', 'not ours');
    for (let i = 0; i < 5; i++) await vault.put(`UDID-${i}`, SecretKind.bootstrapToken, `token-${i}`);
    const next = createSecretVault({
      secrets: storage,
      audit: storage,
      keyProvider: provider(2),
      previousKeyProviders: [provider(1)],
    });
    const report = await next.rewrapAll();
    expect(report).toMatchObject({ rewrapped: 5, current: 0, replacedMeanwhile: 0 });
    expect(report.unreadable).toEqual([
      { owner: 'AAA-1', kind: 'app-secret', code: 'SECRET_UNREADABLE' },
      { owner: 'AAA-2', kind: 'app-secret', code: 'WRONG_KEY_PROVIDER' },
    ]);
    // The unreadable rows are left exactly as they were.
    expect([...(await storage.getSecret('AAA-1', 'app-secret'))!.sealed]).toEqual([1, 2, 3]);
  });

  describe('with a shared local key file and its rotation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mdmkit-escrow-kek-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('re-wraps under the rotated key; the old key can then be retired', async () => {
      const path = join(dir, 'kek.json');
      const a = await createLocalKeyProvider({ path });
      const b = await createLocalKeyProvider({ path }); // a second server process
      const { storage } = setup();
      const logger = capturingLogger();
      const va = createSecretVault({ secrets: storage, audit: storage, keyProvider: a, logger });
      const vb = createSecretVault({ secrets: storage, audit: storage, keyProvider: b });
      for (let i = 0; i < 20; i++) await va.put(`UDID-${i}`, SecretKind.fileVaultRecoveryKey, `key-${i}`);
      const oldId = a.currentKeyId;
      await a.rotate();
      const report = await va.rewrapAll();
      expect(report.rewrapped).toBe(20);
      await a.retire(oldId);
      // The other process follows the file and still opens everything.
      for (let i = 0; i < 20; i += 7) {
        expect(
          (
            await vb.read({
              owner: `UDID-${i}`,
              kind: SecretKind.fileVaultRecoveryKey,
              actor: 'a',
              reason: 'r',
            })
          ).text,
        ).toBe(`key-${i}`);
      }
      expect(logger.lines.join('\n')).not.toMatch(/key-\d/);
    });

    it('loses nothing another process seals right after the rotation, following the documented procedure', async () => {
      const path = join(dir, 'kek-race.json');
      const a = await createLocalKeyProvider({ path });
      const b = await createLocalKeyProvider({ path }); // a second server process, file just read
      const { storage } = setup();
      const va = createSecretVault({ secrets: storage, audit: storage, keyProvider: a });
      const vb = createSecretVault({ secrets: storage, audit: storage, keyProvider: b });
      await va.put('UDID-1', SecretKind.fileVaultRecoveryKey, 'key-1');
      const oldId = a.currentKeyId;
      await a.rotate();
      // The procedure the README gives: let every process follow the rotation (a local provider looks
      // at the file at most once a second before sealing), then re-wrap until nothing is left to do.
      await new Promise((r) => setTimeout(r, 1100));
      await va.rewrapAll();
      // Meanwhile the other process escrows a key (the Mac just reported one).
      await vb.put('UDID-2', SecretKind.fileVaultRecoveryKey, 'key-2');
      let report = await va.rewrapAll();
      while (report.rewrapped + report.replacedMeanwhile > 0) report = await va.rewrapAll();
      expect(report.unreadable).toEqual([]);
      await a.retire(oldId);
      for (const [owner, key] of [
        ['UDID-1', 'key-1'],
        ['UDID-2', 'key-2'],
      ] as const) {
        expect(
          (await va.read({ owner, kind: SecretKind.fileVaultRecoveryKey, actor: 'a', reason: 'r' })).text,
        ).toBe(key);
      }
    });
  });
});
