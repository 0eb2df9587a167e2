import { describe, expect, it } from 'vitest';
import { isOutboxStore, type OutboxStore } from '../outbox';
import type { MdmStorage } from '../storage';
import { bytes, type ConformanceContext, text } from './context';

type WithOutbox = MdmStorage & OutboxStore;

const at = (s: number): Date => new Date(Date.UTC(2030, 0, 1, 0, 0, s));

/**
 * The outbox section. Every case opens a fresh database: a claim takes any due event, so the rows of
 * other cases must not be there.
 */
export function outboxConformance(ctx: ConformanceContext, required: () => boolean): void {
  const fresh = async (): Promise<[WithOutbox, WithOutbox] | undefined> => {
    const db = await ctx.fresh();
    const a = await db.open();
    const b = await db.open();
    if (!isOutboxStore(a) || !isOutboxStore(b)) return undefined;
    return [a as WithOutbox, b as WithOutbox];
  };

  describe('outbox', () => {
    it('notes when the adapter has no outbox yet', async (t) => {
      const h = await fresh();
      if (!h && !required()) return t.skip('outbox not implemented by this adapter');
      expect(h).toBeDefined();
    });

    it('claims due events oldest first under a lease, and skips ids already stored', async (t) => {
      const h = await fresh();
      if (!h) return t.skip();
      const [s, s2] = h;
      await s.enqueueOutbox([
        { id: 'e1', topic: 'mdm.Authenticate', payload: bytes('one'), createdAt: at(1) },
        { id: 'e2', topic: 'mdm.TokenUpdate', payload: bytes('two'), createdAt: at(2) },
      ]);
      await s2.enqueueOutbox([
        { id: 'e1', topic: 'mdm.Authenticate', payload: bytes('replaced?'), createdAt: at(1) },
        { id: 'e3', topic: 'mdm.Acknowledge', payload: bytes('three'), createdAt: at(3) },
      ]);
      const first = await s.claimOutbox('w1', { limit: 2, leaseMs: 60_000, now: at(10) });
      expect(first.map((e) => [e.id, e.topic, text(e.payload), e.attempts])).toEqual([
        ['e1', 'mdm.Authenticate', 'one', 1],
        ['e2', 'mdm.TokenUpdate', 'two', 1],
      ]);
      expect(first[0]!.createdAt.getTime()).toBe(at(1).getTime());
      // Held events are not handed to another holder while the lease runs.
      const second = await s2.claimOutbox('w2', { limit: 10, leaseMs: 60_000, now: at(11) });
      expect(second.map((e) => e.id)).toEqual(['e3']);
      expect(await s2.claimOutbox('w2', { limit: 10, leaseMs: 60_000, now: at(12) })).toEqual([]);
    });

    it('hands an unconfirmed event to another holder after its lease; the old holder can no longer confirm it', async (t) => {
      const h = await fresh();
      if (!h) return t.skip();
      const [s, s2] = h;
      await s.enqueueOutbox([{ id: 'x', topic: 'mdm.CheckOut', payload: bytes('{}'), createdAt: at(0) }]);
      const [mine] = await s.claimOutbox('crashed', { limit: 1, leaseMs: 5_000, now: at(1) });
      expect(mine?.id).toBe('x');
      expect(await s2.claimOutbox('w2', { limit: 1, leaseMs: 5_000, now: at(5) })).toEqual([]);
      const [again] = await s2.claimOutbox('w2', { limit: 1, leaseMs: 5_000, now: at(6) });
      expect(again?.attempts).toBe(2);
      expect(await s.confirmOutbox('crashed', ['x'])).toBe(0);
      expect(await s2.confirmOutbox('w2', ['x', 'x', 'unknown'])).toBe(1);
      expect(await s.claimOutbox('w3', { limit: 10, leaseMs: 5_000, now: at(60) })).toEqual([]);
    });

    it('reschedules a failed delivery with its error, only for its holder', async (t) => {
      const h = await fresh();
      if (!h) return t.skip();
      const [s, s2] = h;
      await s.enqueueOutbox([{ id: 'r', topic: 'mdm.Acknowledge', payload: bytes('p'), createdAt: at(0) }]);
      await s.claimOutbox('w1', { limit: 1, leaseMs: 60_000, now: at(1) });
      expect(await s2.rescheduleOutbox('intruder', 'r', at(2), 'nope')).toBe(false);
      expect(await s.rescheduleOutbox('w1', 'r', at(30), `HTTP 500 ${'x'.repeat(5000)}`)).toBe(true);
      // Released: not due before at(30), whatever the lease said.
      expect(await s2.claimOutbox('w2', { limit: 1, leaseMs: 1_000, now: at(29) })).toEqual([]);
      const [due] = await s2.claimOutbox('w2', { limit: 1, leaseMs: 1_000, now: at(30) });
      expect(due?.attempts).toBe(2);
      expect(due?.lastError?.startsWith('HTTP 500 x')).toBe(true);
      expect(due?.lastError?.length).toBe(1000);
      expect(await s.confirmOutbox('w1', ['r'])).toBe(0);
    });

    it('stores a state change and its events together', async (t) => {
      const h = await fresh();
      if (!h) return t.skip();
      const [s] = h;
      const ev = (id: string) => [{ id, topic: 'mdm.test', payload: bytes(id), createdAt: at(0) }];
      await s.authenticate({ id: 'DEV', topic: 't', outbox: ev('auth') });
      await s.tokenUpdate({
        id: 'DEV',
        channel: 'device',
        topic: 't',
        pushToken: 'aa',
        pushMagic: 'm',
        outbox: ev('token'),
      });
      await s.userAuthenticate({ id: 'DEV:U', deviceId: 'DEV', outbox: ev('user') });
      await s.enqueueCommand({ uuid: 'C1', requestType: 'ProfileList', payload: bytes('<plist/>') }, ['DEV']);
      const r = await s.recordResult({
        enrollmentId: 'DEV',
        status: 'Acknowledged',
        commandUuid: 'C1',
        payload: bytes('ok'),
        outbox: ev('ack'),
      });
      expect(r.outcome).toBe('stored');
      await s.recordResult({ enrollmentId: 'DEV', status: 'Idle', outbox: ev('idle') });
      await s.checkOut('DEV', { outbox: ev('out') });
      expect((await s.getEnrollment('DEV'))?.enabled).toBe(false);
      const claimed = await s.claimOutbox('w', { limit: 100, leaseMs: 1000, now: at(1) });
      expect(claimed.map((e) => e.id)).toEqual(['auth', 'token', 'user', 'ack', 'idle', 'out']);
    });

    it('refuses bad input with typed errors and writes nothing', async (t) => {
      const h = await fresh();
      if (!h) return t.skip();
      const [s] = h;
      await expect(s.enqueueOutbox([{ id: '', topic: 't', payload: bytes('') }])).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(
        s.enqueueOutbox([{ id: 'a', topic: 't', payload: 'text' as unknown as Uint8Array }]),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(s.claimOutbox('w', { limit: 0, leaseMs: 1 })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(s.claimOutbox('w', { limit: 1, leaseMs: 0 })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      // A bad event refuses the whole state change before anything is written.
      await expect(
        s.authenticate({ id: 'BAD', outbox: [{ id: '', topic: 't', payload: bytes('') }] }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      expect(await s.getEnrollment('BAD')).toBeUndefined();
      expect(await s.claimOutbox('w', { limit: 10, leaseMs: 1000 })).toEqual([]);
    });
  });
}
