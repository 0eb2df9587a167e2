import { describe, expect, it } from 'vitest';
import {
  checkBytes,
  checkKey,
  isMdmkitError,
  isStorageError,
  type Migration,
  type MigrationDriver,
  resolveLimits,
  runMigrations,
  StorageError,
  validateMigrations,
  withRetry,
} from '../src/index';

describe('StorageError', () => {
  it('is branded, keeps its cause and says whether a retry may help', () => {
    const cause = new Error('driver');
    const e = new StorageError('BUSY', 'locked', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('StorageError');
    expect(e.cause).toBe(cause);
    expect(isMdmkitError(e)).toBe(true);
    expect(isStorageError(e, 'BUSY')).toBe(true);
    expect(isStorageError(e, 'CONFLICT')).toBe(false);
    expect(e.retryable).toBe(true);
    expect(new StorageError('CONFLICT', 'x').retryable).toBe(false);
    expect(isStorageError(new Error('x'))).toBe(false);
    expect(isMdmkitError(null)).toBe(false);
  });
});

describe('limits', () => {
  it('rejects oversized bytes and keys with PAYLOAD_TOO_LARGE and non-bytes with INVALID_INPUT', () => {
    expect(() => checkBytes('p', new Uint8Array(11), 10)).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }),
    );
    expect(() => checkBytes('p', new Uint8Array(10), 10)).not.toThrow();
    expect(() => checkBytes('p', 'text' as unknown as Uint8Array, 10)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => checkKey('id', 'a'.repeat(6), 5)).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }),
    );
    expect(() => checkKey('id', '', 5)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => checkKey('id', 7, 5)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(resolveLimits({ maxCommandBytes: 5 })).toMatchObject({ maxCommandBytes: 5, maxKeyLength: 255 });
  });
});

describe('withRetry', () => {
  it('retries transient failures and then succeeds', async () => {
    let calls = 0;
    const out = await withRetry(
      () => {
        if (++calls < 3) throw Object.assign(new Error('busy'), { transient: true });
        return 'ok';
      },
      (e) => (e as { transient?: boolean }).transient === true,
      { baseDelayMs: 1 },
    );
    expect(out).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up with BUSY after the last attempt and passes other errors through at once', async () => {
    let calls = 0;
    const err = await withRetry(
      () => {
        calls++;
        throw new Error('deadlock');
      },
      () => true,
      { attempts: 3, baseDelayMs: 1 },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BUSY' });
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect(calls).toBe(3);
    calls = 0;
    const other = await withRetry(
      () => {
        calls++;
        throw new TypeError('bug');
      },
      () => false,
    ).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(TypeError);
    expect(calls).toBe(1);
  });

  it('bounds the retries by time with maxWaitMs, trying once more at the deadline', async () => {
    let calls = 0;
    const start = Date.now();
    const err = await withRetry(
      () => {
        calls++;
        throw new Error('locked');
      },
      () => true,
      { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 5, maxDelayMs: 20, maxWaitMs: 150 },
    ).catch((e: unknown) => e);
    const elapsed = Date.now() - start;
    expect(err).toMatchObject({ code: 'BUSY' });
    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(elapsed).toBeLessThan(400);
    expect(calls).toBeGreaterThan(5);
  });
});

function fakeDriver(initial: { version: number; name: string }[] = []) {
  const applied = initial.map((a) => ({ ...a, appliedAt: new Date() }));
  const log: number[] = [];
  let locked = false;
  let lockQueue = Promise.resolve();
  const driver: MigrationDriver<string> = {
    ensureTable: async () => {},
    exclusive: async (fn) => {
      const prev = lockQueue;
      let release!: () => void;
      lockQueue = new Promise((r) => {
        release = r;
      });
      await prev;
      expect(locked).toBe(false);
      locked = true;
      try {
        return await fn();
      } finally {
        locked = false;
        release();
      }
    },
    applied: async () => applied.map((a) => ({ ...a })),
    apply: async (m) => {
      await new Promise((r) => setTimeout(r, 2));
      if (m.up === 'fail') throw new Error('syntax error');
      log.push(m.version);
      applied.push({ version: m.version, name: m.name, appliedAt: new Date() });
    },
  };
  return { driver, log };
}

const list: Migration<string>[] = [
  { version: 1, name: 'one', up: 'a' },
  { version: 2, name: 'two', up: 'b' },
  { version: 5, name: 'five', up: 'c' },
];

describe('runMigrations', () => {
  it('applies missing versions in order, once, even when started concurrently', async () => {
    const { driver, log } = fakeDriver([{ version: 1, name: 'one' }]);
    const reports = await Promise.all([runMigrations(driver, list), runMigrations(driver, list)]);
    expect(log).toEqual([2, 5]);
    expect(reports.map((r) => r.version)).toEqual([5, 5]);
    expect(reports.flatMap((r) => r.applied).sort()).toEqual([2, 5]);
  });

  it('refuses unknown or renamed applied versions and wraps failures as MIGRATION_FAILED', async () => {
    await expect(runMigrations(fakeDriver([{ version: 9, name: 'x' }]).driver, list)).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
      message: expect.stringContaining('9'),
    });
    await expect(
      runMigrations(fakeDriver([{ version: 2, name: 'renamed' }]).driver, list),
    ).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
    });
    const failing = fakeDriver();
    const err = await runMigrations(failing.driver, [...list, { version: 6, name: 'bad', up: 'fail' }]).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'MIGRATION_FAILED', message: expect.stringContaining('6 (bad)') });
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect(failing.log).toEqual([1, 2, 5]);
  });

  it('validates the list itself', () => {
    expect(() =>
      validateMigrations([
        { version: 2, name: 'a', up: '' },
        { version: 2, name: 'b', up: '' },
      ]),
    ).toThrow(expect.objectContaining({ code: 'MIGRATION_FAILED' }));
    expect(() => validateMigrations([{ version: 0, name: 'a', up: '' }])).toThrow();
    expect(() => validateMigrations([{ version: 1.5, name: 'a', up: '' }])).toThrow();
    expect(() => validateMigrations([{ version: 1, name: '', up: '' }])).toThrow();
    expect(() => validateMigrations(list)).not.toThrow();
  });
});
