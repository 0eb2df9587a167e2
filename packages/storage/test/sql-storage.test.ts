// SqlStorage's own state: the closed flag and the dialect's close, shared by every close() call.
import { SqlStorage, type SqlDialect } from '@mdmkit/storage/sql';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../src/index';

function storageWithSlowClose(): { storage: SqlStorage<object>; closes: () => number; finish: () => void } {
  let calls = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => {
    finish = r;
  });
  const dialect = {
    ctx: {},
    operations: {},
    stores: {},
    migrate: async () => ({ applied: [], version: 0 }),
    close: async () => {
      calls++;
      await done;
    },
  } as unknown as SqlDialect<object>;
  return { storage: new SqlStorage(dialect), closes: () => calls, finish };
}

describe('SqlStorage.close', () => {
  it('makes a second close() wait for the dialect close the first one started', async () => {
    const { storage, closes, finish } = storageWithSlowClose();
    const order: string[] = [];
    const first = storage.close().then(() => order.push('first'));
    const second = storage.close().then(() => order.push('second'));
    await new Promise((r) => setTimeout(r, 20));
    // the dialect is still committing: neither call may have reported the storage closed
    expect(order).toEqual([]);
    finish();
    await Promise.all([first, second]);
    expect(order.sort()).toEqual(['first', 'second']);
    expect(closes()).toBe(1);
    await storage.close();
    expect(closes()).toBe(1);
  });

  it('refuses calls with CLOSED as soon as close() is called', async () => {
    const { storage, finish } = storageWithSlowClose();
    const closing = storage.close();
    await expect(storage.getEnrollment('x')).rejects.toSatisfy(
      (e: unknown) => e instanceof StorageError && e.code === 'CLOSED',
    );
    finish();
    await closing;
  });
});
