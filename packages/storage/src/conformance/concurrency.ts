import { describe, expect, it } from 'vitest';
import type { MdmStorage } from '../storage';
import { bytes, type ConformanceContext } from './context';

export function concurrencyConformance(ctx: ConformanceContext): void {
  describe('concurrency', () => {
    it('parallel workers deliver and acknowledge: none lost, none re-delivered after its result, order kept', async () => {
      const p = ctx.prefix();
      const handles: MdmStorage[] = [ctx.s, ctx.s2, await ctx.open(), await ctx.open()];
      const enrollments = Array.from({ length: 6 }, (_, i) => `${p}E${i}`);
      const perEnrollment = 12;
      const expected = new Map<string, string[]>();
      // fan-out commands shared by every enrollment, interleaved with per-enrollment ones
      for (let i = 0; i < perEnrollment; i++) {
        if (i % 3 === 0) {
          const uuid = `${p}all-${i}`;
          await ctx.s.enqueueCommand({ uuid, requestType: 'Test', payload: bytes(uuid) }, enrollments);
          for (const e of enrollments) expected.set(e, [...(expected.get(e) ?? []), uuid]);
        } else {
          for (const e of enrollments) {
            const uuid = `${p}${e}-${i}`;
            await ctx.s2.enqueueCommand({ uuid, requestType: 'Test', payload: bytes(uuid) }, [e]);
            expected.set(e, [...(expected.get(e) ?? []), uuid]);
          }
        }
      }

      const finished = new Set<string>(); // `${enrollment} ${uuid}` whose final result is stored
      const storedOrder = new Map<string, string[]>();
      const violations: string[] = [];
      let stored = 0;
      const workers = ctx.workers;

      // each enrollment is served by two workers at once (same enrollment) and every worker serves
      // several enrollments (different enrollments)
      const worker = async (w: number) => {
        const h = handles[w % handles.length]!;
        const mine = enrollments.filter(
          (_, i) => i % workers === w % workers || (i + 1) % workers === w % workers,
        );
        const targets = mine.length ? mine : [enrollments[w % enrollments.length]!];
        let idle = 0;
        while (idle < targets.length) {
          idle = 0;
          for (const e of targets) {
            const doneBefore = new Set(finished);
            let cmd = await h.nextCommand(e);
            if (!cmd) {
              idle++;
              continue;
            }
            for (let step = 0; cmd && step < 4; step++) {
              if (doneBefore.has(`${e} ${cmd.uuid}`)) violations.push(`re-delivered ${e} ${cmd.uuid}`);
              const status = (cmd.uuid.length + step + w) % 5 === 0 ? 'NotNow' : 'Acknowledged';
              const res = await h.recordResult({
                enrollmentId: e,
                commandUuid: cmd.uuid,
                status,
                payload: bytes('r'),
              });
              if (status === 'Acknowledged') {
                if (res.outcome === 'stored') {
                  stored++;
                  finished.add(`${e} ${cmd.uuid}`);
                  storedOrder.set(e, [...(storedOrder.get(e) ?? []), cmd.uuid]);
                } else if (res.outcome !== 'duplicate') {
                  violations.push(`unexpected outcome ${res.outcome} for ${e} ${cmd.uuid}`);
                }
              }
              const snapshot = new Set(finished);
              cmd = res.next;
              if (cmd && snapshot.has(`${e} ${cmd.uuid}`))
                violations.push(`next re-delivered ${e} ${cmd.uuid}`);
            }
          }
        }
      };
      await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));

      expect(violations).toEqual([]);
      const total = enrollments.length * perEnrollment;
      expect(stored).toBe(total);
      for (const e of enrollments) {
        expect(await ctx.s.listQueue(e)).toEqual([]);
        // NotNow'd commands may be finished after later ones; everything else keeps enqueue order
        const order = storedOrder.get(e) ?? [];
        expect([...order].sort()).toEqual([...expected.get(e)!].sort());
        const history = (await ctx.s.listHistory(e, { limit: 1000 })).items.map((r) => r.commandUuid);
        expect(history.sort()).toEqual([...order].sort());
      }
    });

    it('keeps FIFO order per enrollment when many workers acknowledge without NotNow', async () => {
      const p = ctx.prefix();
      const handles: MdmStorage[] = [ctx.s, ctx.s2];
      const e = `${p}E`;
      const uuids = Array.from({ length: 30 }, (_, i) => `${p}${String(i).padStart(3, '0')}`);
      for (const uuid of uuids)
        await ctx.s.enqueueCommand({ uuid, requestType: 'Test', payload: bytes(uuid) }, [e]);
      const order: string[] = [];
      await Promise.all(
        Array.from({ length: ctx.workers }, async (_, w) => {
          const h = handles[w % 2]!;
          let cmd = await h.nextCommand(e);
          while (cmd) {
            const res = await h.recordResult({
              enrollmentId: e,
              commandUuid: cmd.uuid,
              status: 'Acknowledged',
            });
            if (res.outcome === 'stored') order.push(cmd.uuid);
            cmd = res.next;
          }
        }),
      );
      // stored order is the database's (responses on different connections may arrive out of order)
      expect([...order].sort()).toEqual(uuids);
      const history = (await ctx.s.listHistory(e, { limit: 1000 })).items.map((r) => r.commandUuid).reverse();
      expect(history).toEqual(uuids);
      const results = await Promise.all(uuids.map((u) => ctx.s.getResults(u)));
      expect(results.every((r) => r.length === 1)).toBe(true);
    });

    it('fans out commands in parallel without losing or doubling queue entries', async () => {
      const p = ctx.prefix();
      const handles: MdmStorage[] = [ctx.s, ctx.s2, await ctx.open()];
      const ids = Array.from({ length: 200 }, (_, i) => `${p}${String(i).padStart(4, '0')}`);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          handles[i % handles.length]!.enqueueCommand(
            { uuid: `${p}cmd${i}`, requestType: 'Test', payload: bytes(String(i)), priority: i % 2 },
            ids,
          ),
        ),
      );
      for (const id of [ids[0]!, ids[99]!, ids[199]!]) {
        const q = await ctx.s.listQueue(id);
        expect(q).toHaveLength(10);
        expect(new Set(q.map((e) => e.uuid)).size).toBe(10);
      }
      // the same UUID raced from several handles is accepted once
      const settled = await Promise.allSettled(
        handles.map((h) =>
          h.enqueueCommand({ uuid: `${p}dup`, requestType: 'Test', payload: bytes('d') }, ids),
        ),
      );
      expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of settled) {
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'CONFLICT' });
      }
      expect(await ctx.s.listQueue(ids[5]!)).toHaveLength(11);
    });

    it('absorbs last-seen hammering from many workers without errors', async () => {
      const p = ctx.prefix();
      const handles: MdmStorage[] = [ctx.s, ctx.s2, await ctx.open()];
      const ids = Array.from({ length: 40 }, (_, i) => `${p}${i}`);
      for (const id of ids) await ctx.s.authenticate({ id });
      const at = new Date('2030-01-01T00:00:00Z');
      const writes = await Promise.all(
        Array.from({ length: ctx.workers * 3 }, (_, w) =>
          Promise.all(ids.map((id) => handles[w % handles.length]!.touchLastSeen(id, at))),
        ),
      );
      // exactly one write per enrollment within one interval
      for (let i = 0; i < ids.length; i++) {
        expect(writes.filter((row) => row[i]).length).toBe(1);
      }
      const list = await ctx.s.listEnrollments({ idPrefix: p, lastSeenAfter: at, limit: 1000 });
      expect(list.items).toHaveLength(ids.length);
    });
  });
}
