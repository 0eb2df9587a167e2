// Secret and audit cases where a database could differ from the in-memory store: version races from
// two handles, unicode keys in paging order, blobs at the size limit, appends from two handles.
import { expect, it } from 'vitest';
import type { AuditEventStore } from '../audit';
import type { SecretStore } from '../secrets';
import type { ConformanceContext } from './context';

type Stores = SecretStore & AuditEventStore;

/** Registers the race and edge cases; `implemented` as in the secret section. */
export function secretRaceConformance(ctx: ConformanceContext, implemented: () => boolean): void {
  const s = (): Stores => ctx.s as unknown as Stores;
  const s2 = (): Stores => ctx.s2 as unknown as Stores;

  it('lets one of a delete and a replace at the same version win from two handles', async (t) => {
    if (!implemented()) return t.skip();
    const owner = `${ctx.prefix()}dev`;
    for (let i = 0; i < 10; i++) {
      const kind = `k${i}`;
      await s().putSecret({ owner, kind, sealed: Uint8Array.of(1), expectedVersion: 0 });
      const out = await Promise.allSettled([
        s().deleteSecret(owner, kind, 1),
        s2().putSecret({ owner, kind, sealed: Uint8Array.of(2), expectedVersion: 1 }),
      ]);
      const won = out.filter((o) => o.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const o of out) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'CONFLICT' });
      const now = await s2().getSecret(owner, kind);
      if (out[0].status === 'fulfilled') expect(now).toBeUndefined();
      else expect(now).toMatchObject({ version: 2, sealed: Uint8Array.of(2) });
    }
  });

  it('pages unicode owners in code-point order and keeps a blob at the size limit byte for byte', async (t) => {
    if (!implemented()) return t.skip();
    const p = ctx.prefix();
    const owners = ['Z', 'a', 'é', '中', 'Ω', '0', 'ß'].map((o) => `${p}${o}`);
    for (const owner of owners) await s().putSecret({ owner, kind: 'clé 🔑', sealed: Uint8Array.of(7) });
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await s2().listSecrets({
        kind: 'clé 🔑',
        limit: 2,
        ...(after !== undefined && { after }),
      });
      seen.push(...page.items.filter((r) => r.owner.startsWith(p)).map((r) => r.owner));
      after = page.next;
    } while (after !== undefined);
    expect(seen).toEqual([...owners].sort());
    const big = new Uint8Array(64 * 1024).map((_, i) => (i * 7919) % 256);
    await s().putSecret({ owner: `${p}big`, kind: 'blob', sealed: big });
    expect((await s2().getSecret(`${p}big`, 'blob'))?.sealed).toEqual(big);
  });

  it('keeps audit events from two handles in one increasing order with unicode reasons', async (t) => {
    if (!implemented()) return t.skip();
    const owner = `${ctx.prefix()}audited`;
    const reason = 'Benutzer ausgesperrt — 🔒 '.repeat(100);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? s() : s2()).appendAuditEvent({
          actor: `a${i % 3}`,
          action: 'secret.read',
          owner,
          kind: 'k',
          reason,
        }),
      ),
    );
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const page = await s().listAuditEvents({ owner, limit: 6, ...(after !== undefined && { after }) });
      for (const e of page.items) expect(e.reason).toBe(reason);
      ids.push(...page.items.map((e) => e.id));
      after = page.next;
    } while (after !== undefined);
    expect(ids).toHaveLength(20);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(20);
    const byActor = await s2().listAuditEvents({ owner, actor: 'a1' });
    expect(byActor.items.every((e) => e.actor === 'a1')).toBe(true);
    expect(byActor.items).toHaveLength(7);
  });
}
