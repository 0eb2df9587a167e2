// The group-commit write path on one handle: what concurrent callers and close() may rely on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MdmStorage, MemoryStorage, type OutboxStore } from '@mdmkit/storage';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index';

const dir = mkdtempSync(join(tmpdir(), 'mdmkit-sqlite-write-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const event = (id: string) => ({ id, topic: 'mdm.test', payload: new Uint8Array([1]) });

/** Many check-in, queue and report calls on one enrollment at once; what is left afterwards. */
async function raceOneEnrollment(s: MdmStorage & OutboxStore) {
  const id = 'UDID-race';
  await s.tokenUpdate({ id, channel: 'device', topic: 't', pushToken: 'p', pushMagic: 'm' });
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 30; i++) {
    const command = { uuid: `c${i}`, requestType: 'X', payload: new Uint8Array([i]) };
    calls.push(s.enqueueCommand(command, [id]));
    calls.push(
      s.tokenUpdate({
        id,
        channel: 'device',
        topic: 't',
        pushToken: `p${i}`,
        pushMagic: 'm',
        outbox: [event(`tu${i}`)],
      }),
    );
    calls.push(s.nextCommand(id));
    calls.push(
      s
        .recordResult({
          enrollmentId: id,
          commandUuid: `c${i}`,
          status: 'Acknowledged',
          outbox: [event(`rr${i}`)],
        })
        .then((r) => r.outcome),
    );
    // the same uuid again: refused, and it must not undo the first one
    calls.push(s.enqueueCommand(command, [id]).catch((e: { code?: string }) => e.code));
  }
  const answers = await Promise.all(calls);
  return {
    tally: (await s.getEnrollment(id))!.tokenUpdateTally,
    queued: (await s.listQueue(id)).map((q) => q.uuid).sort(),
    results: (await s.listHistory(id, { limit: 100 })).items.map((r) => r.commandUuid).sort(),
    outbox: (await s.claimOutbox('worker', { limit: 1000, leaseMs: 60_000 })).map((e) => e.id).sort(),
    conflicts: answers.filter((a) => a === 'CONFLICT').length,
  };
}

describe('sqlite write path', () => {
  it('gives the same end state as MemoryStorage when many calls race on one enrollment', async () => {
    const s = await createSqliteStorage({ path: join(dir, 'race.sqlite') });
    const got = await raceOneEnrollment(s);
    await s.close();
    const want = await raceOneEnrollment(new MemoryStorage());
    expect(got.tally).toBe(31);
    expect(got.conflicts).toBe(30);
    expect(got.outbox).toHaveLength(60);
    expect(got.queued.length + got.results.length).toBe(30);
    expect(got).toEqual({ ...want, queued: got.queued, results: got.results });
  });

  it('rolls back a failing write of a batch with its outbox rows, and only that write', async () => {
    const s = await createSqliteStorage({ path: join(dir, 'savepoints.sqlite') });
    s.database.exec(
      "CREATE TRIGGER refuse_bad BEFORE INSERT ON enrollments WHEN NEW.id = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    const settled = await Promise.allSettled([
      s.authenticate({ id: 'good1', outbox: [event('g1')] }),
      s.authenticate({ id: 'bad', outbox: [event('b1')] }),
      s.authenticate({ id: 'good2', outbox: [event('g2')] }),
    ]);
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await s.claimOutbox('w1', { limit: 10, leaseMs: 60_000 })).map((e) => e.id).sort()).toEqual([
      'g1',
      'g2',
    ]);
    // alone in its batch (no savepoint) the whole transaction rolls back
    await expect(s.authenticate({ id: 'bad', outbox: [event('b2')] })).rejects.toThrow('refused');
    expect(await s.claimOutbox('w2', { limit: 10, leaseMs: 60_000 })).toEqual([]);
    expect(await s.getEnrollment('bad')).toBeUndefined();
    await s.close();
  });

  it('commits the writes accepted before close() and refuses later ones with CLOSED', async () => {
    const path = join(dir, 'close.sqlite');
    const s = await createSqliteStorage({ path });
    const accepted = [1, 2, 3].map((i) => s.authenticate({ id: `a${i}` }));
    const closing = s.close();
    await expect(s.authenticate({ id: 'late' })).rejects.toMatchObject({ code: 'CLOSED' });
    await Promise.all(accepted);
    await closing;
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT id FROM enrollments ORDER BY id').all()).toEqual([
      { id: 'a1' },
      { id: 'a2' },
      { id: 'a3' },
    ]);
    db.close();
  });

  it('answers a second close() only once the accepted writes are committed', async () => {
    const path = join(dir, 'close-twice.sqlite');
    const s = await createSqliteStorage({ path });
    const write = s.authenticate({ id: 'UDID-last' });
    const first = s.close();
    // a second shutdown hook; a process may exit as soon as it returns
    await s.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT id FROM enrollments').all();
    db.close();
    await Promise.all([write, first]);
    expect(rows).toEqual([{ id: 'UDID-last' }]);
  });
});
