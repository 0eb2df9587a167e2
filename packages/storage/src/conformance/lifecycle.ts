import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LifecycleStores } from '../lifecycle';
import type { MdmStorage } from '../storage';
import type { ConformanceContext } from './context';

type WithLifecycle = MdmStorage & LifecycleStores;

const LIFECYCLE_METHODS = [
  'putDeclarationSet',
  'getDeclarationSet',
  'deleteDeclarationSet',
  'assignDeclarationSet',
  'unassignDeclarationSet',
  'declarationSetsOf',
  'enrollmentsWithDeclarationSet',
  'appendDdmStatus',
  'listDdmStatus',
  'putIdentityCertificate',
  'getIdentityCertificate',
  'listExpiringIdentityCertificates',
  'retireIdentityCertificates',
  'blockEnrollment',
  'unblockEnrollment',
  'getEnrollmentBlock',
] as const;

/** Whether a storage handle implements the declaration-set, DDM-status, identity-certificate and block stores. */
export function hasLifecycleStores(s: MdmStorage): s is WithLifecycle {
  return LIFECYCLE_METHODS.every((m) => typeof (s as unknown as Record<string, unknown>)[m] === 'function');
}

const hashOf = (s: string): string => createHash('sha256').update(s).digest('hex');
const DAY = 86_400_000;

/** The lifecycle store sections; skipped with a note on an adapter without them. */
export function lifecycleConformance(ctx: ConformanceContext, implemented: () => boolean): void {
  const s = (): WithLifecycle => ctx.s as WithLifecycle;
  const s2 = (): WithLifecycle => ctx.s2 as WithLifecycle;

  describe('declaration sets, DDM status, identity certificates, blocks', () => {
    it('notes when the adapter has no lifecycle stores yet', (t) => {
      if (!implemented()) t.skip(`lifecycle stores not implemented (needs ${LIFECYCLE_METHODS.join(', ')})`);
      expect(hasLifecycleStores(ctx.s)).toBe(true);
    });

    it('stores, replaces and deletes a declaration set with its assignments', async (t) => {
      if (!implemented()) return t.skip();
      const p = ctx.prefix();
      const at = new Date('2026-01-02T03:04:05.678Z');
      const json = JSON.stringify([{ Type: 'com.apple.configuration.passcode.settings', Identifier: 'ü/é' }]);
      const put = await s().putDeclarationSet(`${p}set`, json, at);
      expect(put.updatedAt.getTime()).toBe(at.getTime());
      const got = await s2().getDeclarationSet(`${p}set`);
      expect(got).toEqual({ name: `${p}set`, declarations: json, updatedAt: at });
      await s().putDeclarationSet(`${p}set`, '[]', new Date(at.getTime() + 1000));
      expect((await s2().getDeclarationSet(`${p}set`))?.declarations).toBe('[]');
      expect((await s2().getDeclarationSet(`${p}set`))?.updatedAt.getTime()).toBe(at.getTime() + 1000);
      await s().assignDeclarationSet(`${p}set`, [`${p}b`, `${p}a`]);
      expect(await s().deleteDeclarationSet(`${p}set`)).toBe(true);
      expect(await s().deleteDeclarationSet(`${p}set`)).toBe(false);
      expect(await s2().getDeclarationSet(`${p}set`)).toBeUndefined();
      expect(await s2().declarationSetsOf(`${p}a`)).toEqual([]);
    });

    it('refuses declarations that are not a JSON array, and names over the limit', async (t) => {
      if (!implemented()) return t.skip();
      const p = ctx.prefix();
      await expect(s().putDeclarationSet(`${p}x`, '{"a":1}')).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(s().putDeclarationSet(`${p}x`, 'not json')).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(s().putDeclarationSet('x'.repeat(256), '[]')).rejects.toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
      });
      expect(await s().getDeclarationSet(`${p}x`)).toBeUndefined();
    });

    it('assigns idempotently, lists sets of an enrollment in order and enrollments of a set in pages', async (t) => {
      if (!implemented()) return t.skip();
      const p = ctx.prefix();
      await s().assignDeclarationSet(`${p}group`, [`${p}d1`, `${p}d2`, `${p}d3`, `${p}d1`]);
      await s2().assignDeclarationSet(`${p}group`, [`${p}d2`]);
      await s().assignDeclarationSet(`${p}device`, [`${p}d1`]);
      expect(await s2().declarationSetsOf(`${p}d1`)).toEqual([`${p}device`, `${p}group`]);
      const first = await s2().enrollmentsWithDeclarationSet(`${p}group`, { limit: 2 });
      expect(first.items).toEqual([`${p}d1`, `${p}d2`]);
      expect(first.next).toBe(`${p}d2`);
      const rest = await s2().enrollmentsWithDeclarationSet(`${p}group`, { after: first.next, limit: 2 });
      expect(rest).toEqual({ items: [`${p}d3`] });
      expect(await s().unassignDeclarationSet(`${p}group`, [`${p}d1`, `${p}nobody`])).toBe(1);
      expect(await s2().declarationSetsOf(`${p}d1`)).toEqual([`${p}device`]);
      await s().assignDeclarationSet(`${p}group`, []);
      expect(await s().unassignDeclarationSet(`${p}group`, [])).toBe(0);
    });

    it('keeps DDM status history newest first, paged, per enrollment', async (t) => {
      if (!implemented()) return t.skip();
      const p = ctx.prefix();
      const at = new Date('2026-03-01T00:00:00.123Z');
      const a = await s().appendDdmStatus(`${p}dev`, '{"n":1}', at);
      const b = await s2().appendDdmStatus(`${p}dev`, '{"n":2}');
      await s().appendDdmStatus(`${p}other`, '{"n":9}');
      const c = await s().appendDdmStatus(`${p}dev`, '{"n":3}');
      expect(Number(b.id)).toBeGreaterThan(Number(a.id));
      const page = await s2().listDdmStatus(`${p}dev`, { limit: 2 });
      expect(page.items.map((r) => r.report)).toEqual(['{"n":3}', '{"n":2}']);
      expect(page.items[0]?.id).toBe(c.id);
      const older = await s2().listDdmStatus(`${p}dev`, { after: page.next, limit: 2 });
      expect(older.items).toEqual([{ id: a.id, enrollmentId: `${p}dev`, report: '{"n":1}', receivedAt: at }]);
      expect(older.next).toBeUndefined();
      await expect(s().listDdmStatus(`${p}dev`, { after: 'x' })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(s().appendDdmStatus(`${p}dev`, 7 as unknown as string)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    });

    it('finds identity certificates nearing expiry and retires all but the renewed one', async (t) => {
      if (!implemented()) return t.skip();
      const p = ctx.prefix();
      const now = Date.now();
      const old = hashOf(`${p}old`);
      const renewed = hashOf(`${p}new`);
      const far = hashOf(`${p}far`);
      await s().putIdentityCertificate({
        hash: old,
        enrollmentId: `${p}dev`,
        notAfter: new Date(now + 5 * DAY),
        trust: 'issued',
      });
      await s().putIdentityCertificate({
        hash: far,
        enrollmentId: `${p}dev2`,
        notAfter: new Date(now + 400 * DAY),
        trust: 'migrated',
      });
      const soon = async () => {
        const out: string[] = [];
        let after: string | undefined;
        do {
          const page = await s2().listExpiringIdentityCertificates(new Date(now + 30 * DAY), {
            after,
            limit: 50,
          });
          out.push(...page.items.map((r) => r.hash));
          after = page.next;
        } while (after);
        return out;
      };
      expect(await soon()).toContain(old);
      expect(await soon()).not.toContain(far);
      expect(await s2().getIdentityCertificate(far)).toEqual({
        hash: far,
        enrollmentId: `${p}dev2`,
        notAfter: new Date(now + 400 * DAY),
        trust: 'migrated',
      });
      await s().putIdentityCertificate({
        hash: renewed,
        enrollmentId: `${p}dev`,
        notAfter: new Date(now + 365 * DAY),
        trust: 'issued',
      });
      const retireAt = new Date(now + DAY);
      expect(await s2().retireIdentityCertificates(`${p}dev`, renewed, retireAt)).toBe(1);
      expect(await s().retireIdentityCertificates(`${p}dev`, renewed, new Date(now + 2 * DAY))).toBe(0);
      expect((await s().getIdentityCertificate(old))?.retireAt?.getTime()).toBe(retireAt.getTime());
      expect((await s().getIdentityCertificate(renewed))?.retireAt).toBeUndefined();
      expect(await soon()).not.toContain(old);
      await expect(s().getIdentityCertificate('ABC')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(
        s().putIdentityCertificate({
          hash: old,
          enrollmentId: `${p}dev`,
          notAfter: new Date(),
          trust: 'anything' as 'issued',
        }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    });

    it('blocks, re-blocks and unblocks an enrollment', async (t) => {
      if (!implemented()) return t.skip();
      const p = ctx.prefix();
      const at = new Date('2026-05-05T05:05:05.005Z');
      expect(await s().getEnrollmentBlock(`${p}dev`)).toBeUndefined();
      await s().blockEnrollment({ enrollmentId: `${p}dev`, actor: 'alice', reason: 'stolen', at });
      expect(await s2().getEnrollmentBlock(`${p}dev`)).toEqual({
        enrollmentId: `${p}dev`,
        actor: 'alice',
        reason: 'stolen',
        blockedAt: at,
      });
      await s2().blockEnrollment({ enrollmentId: `${p}dev`, actor: 'bob', reason: 'still stolen' });
      expect((await s().getEnrollmentBlock(`${p}dev`))?.actor).toBe('bob');
      expect(await s().unblockEnrollment(`${p}dev`)).toBe(true);
      expect(await s().unblockEnrollment(`${p}dev`)).toBe(false);
      expect(await s2().getEnrollmentBlock(`${p}dev`)).toBeUndefined();
      await expect(
        s().blockEnrollment({ enrollmentId: `${p}dev`, actor: 'alice', reason: ' ' }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    });
  });
}
