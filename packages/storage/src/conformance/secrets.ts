import { describe, expect, it } from 'vitest';
import type { AuditEventStore } from '../audit';
import type { SecretStore } from '../secrets';
import type { MdmStorage } from '../storage';
import { bytes, type ConformanceContext } from './context';
import { secretRaceConformance } from './secret-races';

type WithSecrets = MdmStorage & SecretStore & AuditEventStore;

const SECRET_METHODS = [
  'getSecret',
  'putSecret',
  'deleteSecret',
  'listSecrets',
  'appendAuditEvent',
  'listAuditEvents',
] as const;

/** Whether a storage handle implements the secret and audit-event stores. */
export function hasSecretStores(s: MdmStorage): s is WithSecrets {
  return SECRET_METHODS.every((m) => typeof (s as unknown as Record<string, unknown>)[m] === 'function');
}

/**
 * The secret store and audit-event store sections. An adapter without them yet is skipped with a
 * note naming what is missing, so the rest of the suite still runs against it.
 */
export function secretConformance(ctx: ConformanceContext, implemented: () => boolean): void {
  const s = (): WithSecrets => ctx.s as WithSecrets;
  const s2 = (): WithSecrets => ctx.s2 as WithSecrets;

  describe('secret store and audit events', () => {
    it('notes when the adapter has no secret store yet', (t) => {
      if (!implemented()) {
        t.skip(`secret store not implemented by this adapter (needs ${SECRET_METHODS.join(', ')})`);
      }
      expect(hasSecretStores(ctx.s)).toBe(true);
    });

    it('stores sealed bytes per (owner, kind) and bumps the version on replace', async (t) => {
      if (!implemented()) return t.skip();
      const p = ctx.prefix();
      const a = await s().putSecret({ owner: `${p}dev`, kind: 'filevault-prk', sealed: bytes('one') });
      expect(a.version).toBe(1);
      await s().putSecret({ owner: `${p}dev`, kind: 'bypass', sealed: bytes('other') });
      const b = await s2().putSecret({ owner: `${p}dev`, kind: 'filevault-prk', sealed: bytes('two') });
      expect(b.version).toBe(2);
      expect(b.createdAt.getTime()).toBe(a.createdAt.getTime());
      const got = await s().getSecret(`${p}dev`, 'filevault-prk');
      expect(new TextDecoder().decode(got?.sealed)).toBe('two');
      expect(await s().getSecret(`${p}dev`, 'none')).toBeUndefined();
      expect(await s().getSecret(`${p}other`, 'filevault-prk')).toBeUndefined();
    });

    it('refuses a compare-and-set on the wrong version with CONFLICT and changes nothing', async (t) => {
      if (!implemented()) return t.skip();
      const p = ctx.prefix();
      const owner = `${p}dev`;
      await s().putSecret({ owner, kind: 'k', sealed: bytes('v1'), expectedVersion: 0 });
      await expect(
        s2().putSecret({ owner, kind: 'k', sealed: bytes('x'), expectedVersion: 0 }),
      ).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      await expect(
        s2().putSecret({ owner, kind: 'k', sealed: bytes('x'), expectedVersion: 5 }),
      ).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      await expect(s().deleteSecret(owner, 'k', 2)).rejects.toMatchObject({ code: 'CONFLICT' });
      const kept = await s().getSecret(owner, 'k');
      expect(new TextDecoder().decode(kept?.sealed)).toBe('v1');
      expect(kept?.version).toBe(1);
      await s().putSecret({ owner, kind: 'k', sealed: bytes('v2'), expectedVersion: 1 });
      expect(await s().deleteSecret(owner, 'k', 2)).toBe(true);
      expect(await s().deleteSecret(owner, 'k')).toBe(false);
    });

    it('lets exactly one of many racing compare-and-set writers win', async (t) => {
      if (!implemented()) return t.skip();
      const p = ctx.prefix();
      const owner = `${p}dev`;
      await s().putSecret({ owner, kind: 'k', sealed: bytes('base') });
      const handles = [s(), s2(), (await ctx.open()) as WithSecrets];
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          handles[i % handles.length]!.putSecret({
            owner,
            kind: 'k',
            sealed: bytes(`w${i}`),
            expectedVersion: 1,
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'CONFLICT' });
      expect((await s().getSecret(owner, 'k'))?.version).toBe(2);
    });

    it('lets exactly one of many racing create-only writers win', async (t) => {
      if (!implemented()) return t.skip();
      const owner = `${ctx.prefix()}new`;
      const handles = [s(), s2(), (await ctx.open()) as WithSecrets];
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          handles[i % handles.length]!.putSecret({
            owner,
            kind: 'k',
            sealed: bytes(`c${i}`),
            expectedVersion: 0,
          }),
        ),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'CONFLICT' });
      const stored = await s().getSecret(owner, 'k');
      expect(stored?.version).toBe(1);
      expect(Buffer.from(stored!.sealed).toString()).toBe(Buffer.from(bytes(`c${won[0]}`)).toString());
    });

    it('pages secrets in (owner, kind) order with filters', async (t) => {
      if (!implemented()) return t.skip();
      const p = ctx.prefix();
      for (const o of ['b', 'a', 'c']) {
        for (const k of ['y', 'x'])
          await s().putSecret({ owner: `${p}${o}`, kind: `${p}${k}`, sealed: bytes(o + k) });
      }
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = await s().listSecrets({
          kind: `${p}x`,
          limit: 2,
          ...(after !== undefined && { after }),
        });
        seen.push(...page.items.map((r) => r.owner.slice(p.length)));
        after = page.next;
      } while (after !== undefined);
      expect(seen).toEqual(['a', 'b', 'c']);
      const mine = await s2().listSecrets({ owner: `${p}b` });
      expect(mine.items.map((r) => r.kind.slice(p.length))).toEqual(['x', 'y']);
    });

    it('refuses empty keys and non-byte or oversized blobs with typed errors', async (t) => {
      if (!implemented()) return t.skip();
      await expect(s().putSecret({ owner: '', kind: 'k', sealed: bytes('x') })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(
        s().putSecret({ owner: 'o', kind: 'k', sealed: 'text' as unknown as Uint8Array }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(
        s().putSecret({ owner: `${ctx.prefix()}o`, kind: 'k', sealed: new Uint8Array(1024 * 1024) }),
      ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    });

    it('appends audit events in order and lists them by owner and actor', async (t) => {
      if (!implemented()) return t.skip();
      const p = ctx.prefix();
      const at = new Date('2026-01-02T03:04:05.678Z');
      const e1 = await s().appendAuditEvent({
        actor: `${p}alice`,
        action: 'secret.read',
        owner: `${p}dev`,
        kind: 'filevault-prk',
        reason: 'user locked out',
        at,
      });
      const e2 = await s2().appendAuditEvent({
        actor: `${p}bob`,
        action: 'secret.read',
        owner: `${p}dev`,
        kind: 'bypass',
        reason: 'wipe',
      });
      expect(e2.id > e1.id).toBe(true);
      const byOwner = await s().listAuditEvents({ owner: `${p}dev` });
      expect(byOwner.items.map((e) => [e.actor.slice(p.length), e.kind, e.reason])).toEqual([
        ['alice', 'filevault-prk', 'user locked out'],
        ['bob', 'bypass', 'wipe'],
      ]);
      expect(byOwner.items[0]!.at.getTime()).toBe(at.getTime());
      const byActor = await s().listAuditEvents({ actor: `${p}bob` });
      expect(byActor.items).toHaveLength(1);
      const page = await s().listAuditEvents({ owner: `${p}dev`, limit: 1 });
      expect(page.next).toBeDefined();
      const rest = await s().listAuditEvents({ owner: `${p}dev`, after: page.next! });
      expect(rest.items.map((e) => e.id)).toEqual([e2.id]);
      await expect(
        s().appendAuditEvent({ actor: '', action: 'secret.read', owner: 'o', kind: 'k', reason: 'r' }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(
        s().appendAuditEvent({ actor: 'a', action: 'secret.read', owner: 'o', kind: 'k', reason: '' }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    });
    secretRaceConformance(ctx, implemented);
  });
}
