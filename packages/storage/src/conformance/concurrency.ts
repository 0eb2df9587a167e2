import { describe, expect, it } from 'vitest';
import type { MdmStorage } from '../storage';
import { bytes, type ConformanceContext } from './context';
import { checkDeliveryTrace, DeliveryTracer, runDeliveryWorkers } from './delivery-check';

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

      const { calls, capped } = await runDeliveryWorkers({ handles, enrollments, workers: ctx.workers });
      expect(capped).toBe(false);
      // judged on issue/completion sequence, never on the order replies happened to be processed in
      expect(checkDeliveryTrace(calls, expected)).toEqual([]);
      for (const e of enrollments) {
        expect(await ctx.s.listQueue(e)).toEqual([]);
        const history = (await ctx.s.listHistory(e, { limit: 1000 })).items.map((r) => r.commandUuid);
        expect(history.sort()).toEqual([...expected.get(e)!].sort());
      }
    });

    it('keeps FIFO order per enrollment when many workers acknowledge without NotNow', async () => {
      const p = ctx.prefix();
      const handles: MdmStorage[] = [ctx.s, ctx.s2];
      const e = `${p}E`;
      const uuids = Array.from({ length: 30 }, (_, i) => `${p}${String(i).padStart(3, '0')}`);
      for (const uuid of uuids)
        await ctx.s.enqueueCommand({ uuid, requestType: 'Test', payload: bytes(uuid) }, [e]);
      const tracer = new DeliveryTracer();
      const r = bytes('r');
      await Promise.all(
        Array.from({ length: ctx.workers }, async (_, w) => {
          const h = handles[w % 2]!;
          let cmd = await tracer.next(h, e);
          while (cmd) cmd = await tracer.record(h, e, cmd.uuid, 'Acknowledged', r);
        }),
      );
      expect(checkDeliveryTrace(tracer.calls, new Map([[e, uuids]]))).toEqual([]);
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
