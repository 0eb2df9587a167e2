import { describe, expect, it } from 'vitest';
import { DEFAULT_STORAGE_LIMITS } from '../limits';
import { bytes, type ConformanceContext, text } from './context';

const cmd = (uuid: string, extra: Record<string, unknown> = {}) => ({
  uuid,
  requestType: 'DeviceInformation',
  payload: bytes(`<plist>${uuid}</plist>`),
  ...extra,
});

export function queueConformance(ctx: ConformanceContext): void {
  describe('command queue', () => {
    it('hands out FIFO within priority and stores results with the next command in one call', async () => {
      const { s, s2 } = ctx;
      const p = ctx.prefix();
      const [a, b] = [`${p}A`, `${p}B`];
      expect(await s.nextCommand(a)).toBeUndefined();
      await s.enqueueCommand(cmd(`${p}c1`), [a, b]);
      await s.enqueueCommand(cmd(`${p}c2`), [a]);
      await s2.enqueueCommand(cmd(`${p}c3`, { priority: 5, requestType: 'InstallProfile' }), [a]);
      await s.enqueueCommand(cmd(`${p}c4`, { priority: -1 }), [a]);

      const first = await s.nextCommand(a);
      expect(first).toMatchObject({ uuid: `${p}c3`, requestType: 'InstallProfile', priority: 5 });
      expect(text(first?.payload)).toBe(`<plist>${p}c3</plist>`);
      expect(first?.enqueuedAt).toBeInstanceOf(Date);
      // at-least-once: asking again without a result returns the same command
      expect((await s2.nextCommand(a))?.uuid).toBe(`${p}c3`);
      expect((await s.listQueue(a)).map((e) => e.uuid)).toEqual([`${p}c3`, `${p}c1`, `${p}c2`, `${p}c4`]);

      const r1 = await s.recordResult({
        enrollmentId: a,
        commandUuid: `${p}c3`,
        status: 'Acknowledged',
        payload: bytes('ack3'),
      });
      expect(r1.outcome).toBe('stored');
      expect(r1.next?.uuid).toBe(`${p}c1`);
      const r2 = await s.recordResult({
        enrollmentId: a,
        commandUuid: `${p}c1`,
        status: 'Error',
        payload: bytes('err1'),
      });
      expect(r2.next?.uuid).toBe(`${p}c2`);
      expect((await s.nextCommand(b))?.uuid).toBe(`${p}c1`);
      const r3 = await s.recordResult({
        enrollmentId: a,
        commandUuid: `${p}c2`,
        status: 'CommandFormatError',
      });
      expect(r3.next?.uuid).toBe(`${p}c4`);
      const r4 = await s.recordResult({ enrollmentId: a, commandUuid: `${p}c4`, status: 'Acknowledged' });
      expect(r4).toEqual({ outcome: 'stored' });
      expect(await s.nextCommand(a)).toBeUndefined();
      expect(await s.listQueue(a)).toEqual([]);

      const res = await s.getResults(`${p}c1`);
      expect(res).toHaveLength(1);
      expect(res[0]).toMatchObject({
        enrollmentId: a,
        commandUuid: `${p}c1`,
        status: 'Error',
        requestType: 'DeviceInformation',
      });
      expect(text(res[0]?.payload)).toBe('err1');
      expect(res[0]?.receivedAt).toBeInstanceOf(Date);
      await s.recordResult({
        enrollmentId: b,
        commandUuid: `${p}c1`,
        status: 'Acknowledged',
        payload: bytes('ackb'),
      });
      expect((await s2.getResults(`${p}c1`)).map((r) => r.enrollmentId).sort()).toEqual([a, b]);
      expect(await s.getResults(`${p}none`)).toEqual([]);
    });

    it('treats a re-sent report as a duplicate and stores nothing twice', async () => {
      const { s, s2 } = ctx;
      const p = ctx.prefix();
      const a = `${p}A`;
      await s.enqueueCommand(cmd(`${p}c1`), [a]);
      await s.enqueueCommand(cmd(`${p}c2`), [a]);
      const report = {
        enrollmentId: a,
        commandUuid: `${p}c1`,
        status: 'Acknowledged' as const,
        payload: bytes('one'),
      };
      expect((await s.recordResult(report)).outcome).toBe('stored');
      const again = await s2.recordResult({ ...report, payload: bytes('two') });
      expect(again.outcome).toBe('duplicate');
      expect(again.next?.uuid).toBe(`${p}c2`);
      const res = await s.getResults(`${p}c1`);
      expect(res).toHaveLength(1);
      expect(text(res[0]?.payload)).toBe('one');
      // a late NotNow for a finished command changes nothing either
      expect((await s.recordResult({ ...report, status: 'NotNow' })).outcome).toBe('duplicate');
      expect((await s.nextCommand(a))?.uuid).toBe(`${p}c2`);
      expect((await s.listHistory(a)).items).toHaveLength(1);

      const unknown = await s.recordResult({
        enrollmentId: a,
        commandUuid: `${p}nope`,
        status: 'Acknowledged',
      });
      expect(unknown.outcome).toBe('unknown');
      expect(unknown.next?.uuid).toBe(`${p}c2`);
      expect(await s.getResults(`${p}nope`)).toEqual([]);
      // a command queued for someone else is unknown for this enrollment
      await s.enqueueCommand(cmd(`${p}other`), [`${p}B`]);
      expect(
        (await s.recordResult({ enrollmentId: a, commandUuid: `${p}other`, status: 'Acknowledged' })).outcome,
      ).toBe('unknown');
      expect((await s.nextCommand(`${p}B`))?.uuid).toBe(`${p}other`);

      const idle = await s.recordResult({ enrollmentId: a, status: 'Idle' });
      expect(idle).toMatchObject({ outcome: 'idle', next: { uuid: `${p}c2` } });
    });

    it('skips NotNow commands after a NotNow report and offers them again after any other report', async () => {
      const { s } = ctx;
      const p = ctx.prefix();
      const a = `${p}A`;
      await s.enqueueCommand(cmd(`${p}c1`), [a]);
      await s.enqueueCommand(cmd(`${p}c2`), [a]);
      await s.enqueueCommand(cmd(`${p}c3`), [a]);

      const n1 = await s.recordResult({ enrollmentId: a, commandUuid: `${p}c1`, status: 'NotNow' });
      expect(n1.outcome).toBe('stored');
      expect(n1.next?.uuid).toBe(`${p}c2`);
      expect((await s.nextCommand(a, { skipNotNow: true }))?.uuid).toBe(`${p}c2`);
      expect((await s.nextCommand(a))?.uuid).toBe(`${p}c1`);
      const n2 = await s.recordResult({ enrollmentId: a, commandUuid: `${p}c2`, status: 'NotNow' });
      expect(n2.next?.uuid).toBe(`${p}c3`);
      const q = await s.listQueue(a);
      expect(q.map((e) => [e.uuid, e.lastStatus ?? null])).toEqual([
        [`${p}c1`, 'NotNow'],
        [`${p}c2`, 'NotNow'],
        [`${p}c3`, null],
      ]);
      expect(q[0]?.notNowCount).toBe(1);
      expect(q[0]?.lastStatusAt).toBeInstanceOf(Date);
      const n3 = await s.recordResult({ enrollmentId: a, commandUuid: `${p}c3`, status: 'NotNow' });
      expect(n3).toEqual({ outcome: 'stored' });

      // Idle makes NotNow'd commands eligible again, in their original order
      expect((await s.recordResult({ enrollmentId: a, status: 'Idle' })).next?.uuid).toBe(`${p}c1`);
      const ack = await s.recordResult({ enrollmentId: a, commandUuid: `${p}c1`, status: 'Acknowledged' });
      expect(ack.next?.uuid).toBe(`${p}c2`);
      const n4 = await s.recordResult({ enrollmentId: a, commandUuid: `${p}c2`, status: 'NotNow' });
      // c3 still carries its earlier NotNow, so nothing is eligible right after this NotNow
      expect(n4).toEqual({ outcome: 'stored' });
      const err = await s.recordResult({ enrollmentId: a, commandUuid: `${p}c3`, status: 'Error' });
      expect(err.next?.uuid).toBe(`${p}c2`);
      expect((await s.listQueue(a)).find((e) => e.uuid === `${p}c2`)?.notNowCount).toBe(2);
    });

    it('honours notBefore and expiresAt', async () => {
      const { s } = ctx;
      const p = ctx.prefix();
      const a = `${p}A`;
      const t0 = new Date('2030-01-01T00:00:00Z');
      const later = new Date(t0.getTime() + 60_000);
      await s.enqueueCommand(cmd(`${p}later`, { notBefore: later }), [a]);
      await s.enqueueCommand(cmd(`${p}expiring`, { expiresAt: new Date(t0.getTime() + 1_000) }), [a]);
      expect((await s.nextCommand(a, { now: t0 }))?.uuid).toBe(`${p}expiring`);
      const q = await s.listQueue(a);
      expect(q.find((e) => e.uuid === `${p}later`)?.notBefore?.getTime()).toBe(later.getTime());
      expect((await s.nextCommand(a, { now: new Date(t0.getTime() + 2_000) }))?.uuid).toBeUndefined();
      expect((await s.nextCommand(a, { now: later }))?.uuid).toBe(`${p}later`);
      const r = await s.recordResult(
        { enrollmentId: a, status: 'Idle' },
        { now: new Date(t0.getTime() + 500) },
      );
      expect(r.next?.uuid).toBe(`${p}expiring`);
      // expired entries stay visible until cleared
      expect(await s.listQueue(a)).toHaveLength(2);
      expect(await s.clearQueue(a)).toBe(2);
      expect(await s.listQueue(a)).toEqual([]);
      expect(await s.clearQueue(a)).toBe(0);
      expect(await s.nextCommand(a, { now: later })).toBeUndefined();
    });

    it('rejects duplicate UUIDs, bad input and oversized payloads with typed errors', async () => {
      const { s, s2 } = ctx;
      const p = ctx.prefix();
      await s.enqueueCommand(cmd(`${p}c1`), [`${p}A`]);
      await expect(s2.enqueueCommand(cmd(`${p}c1`), [`${p}B`])).rejects.toMatchObject({
        name: 'StorageError',
        code: 'CONFLICT',
      });
      expect(await s.nextCommand(`${p}B`)).toBeUndefined();
      await expect(s.enqueueCommand(cmd(''), [`${p}A`])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(s.enqueueCommand(cmd(`${p}x`, { priority: 1.5 }), [`${p}A`])).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(s.enqueueCommand(cmd(`${p}x`), [`${p}A`, ''])).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(s.recordResult({ enrollmentId: `${p}A`, status: 'Acknowledged' })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(
        s.recordResult({ enrollmentId: `${p}A`, commandUuid: `${p}c1`, status: 'Bogus' as 'Idle' }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });

      const big = new Uint8Array(DEFAULT_STORAGE_LIMITS.maxCommandBytes + 1);
      await expect(s.enqueueCommand(cmd(`${p}big`, { payload: big }), [`${p}A`])).rejects.toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
      });
      const bigResult = new Uint8Array(DEFAULT_STORAGE_LIMITS.maxResultBytes + 1);
      await expect(
        s.recordResult({
          enrollmentId: `${p}A`,
          commandUuid: `${p}c1`,
          status: 'Acknowledged',
          payload: bigResult,
        }),
      ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      // the rejected result left the command queued
      expect((await s.nextCommand(`${p}A`))?.uuid).toBe(`${p}c1`);

      const small = await ctx.open({ limits: { maxCommandBytes: 64, maxResultBytes: 32 } });
      await expect(
        small.enqueueCommand(cmd(`${p}s`, { payload: new Uint8Array(65) }), [`${p}A`]),
      ).rejects.toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
      });
      await small.enqueueCommand(cmd(`${p}s`, { payload: new Uint8Array(64) }), [`${p}S`]);
      await expect(
        small.recordResult({
          enrollmentId: `${p}S`,
          commandUuid: `${p}s`,
          status: 'Error',
          payload: new Uint8Array(33),
        }),
      ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });

      // a payload near the default limit round-trips intact
      const large = new Uint8Array(2 * 1024 * 1024).map((_, i) => i % 251);
      await s.enqueueCommand(cmd(`${p}large`, { payload: large }), [`${p}L`]);
      const got = await s.nextCommand(`${p}L`);
      expect(got?.payload.byteLength).toBe(large.byteLength);
      expect(Buffer.from(got!.payload).equals(Buffer.from(large))).toBe(true);
    });

    it('keeps history newest first, paged, and deletes finished commands on request', async () => {
      const { s } = ctx;
      const p = ctx.prefix();
      const a = `${p}A`;
      const b = `${p}B`;
      // results dated in the past so no other test's finished commands fall before the cutoff
      const t0 = new Date('2001-01-01T00:00:00Z');
      for (let i = 0; i < 5; i++) await s.enqueueCommand(cmd(`${p}c${i}`), [a, b]);
      for (let i = 0; i < 5; i++) {
        await s.recordResult(
          { enrollmentId: a, commandUuid: `${p}c${i}`, status: 'Acknowledged', payload: bytes(`r${i}`) },
          { now: new Date(t0.getTime() + i * 1000) },
        );
      }
      const seen: string[] = [];
      let after: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await s.listHistory(a, { limit: 2, ...(after ? { after } : {}) });
        seen.push(...page.items.map((r) => r.commandUuid));
        after = page.next;
        if (!after) break;
      }
      expect(seen).toEqual([4, 3, 2, 1, 0].map((i) => `${p}c${i}`));
      expect((await s.listHistory(b)).items).toEqual([]);

      // c0..c4 still wait on b: nothing to delete yet
      const cutoff = new Date(t0.getTime() + 3_500);
      expect(await s.deleteFinishedCommands(cutoff)).toBe(0);
      for (let i = 0; i < 5; i++) {
        await s.recordResult(
          { enrollmentId: b, commandUuid: `${p}c${i}`, status: 'Acknowledged' },
          { now: new Date(t0.getTime() + i * 1000) },
        );
      }
      expect(await s.deleteFinishedCommands(cutoff)).toBe(4);
      expect(await s.getResults(`${p}c0`)).toEqual([]);
      expect(await s.getResults(`${p}c4`)).toHaveLength(2);
      expect((await s.listHistory(a)).items.map((r) => r.commandUuid)).toEqual([`${p}c4`]);
      // a deleted command's UUID is free again, and a re-sent old report is just unknown
      expect(
        (await s.recordResult({ enrollmentId: a, commandUuid: `${p}c0`, status: 'Acknowledged' })).outcome,
      ).toBe('unknown');
    });
  });
}
