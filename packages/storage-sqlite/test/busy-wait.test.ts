import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { isStorageError } from '@mdmkit/storage';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index';

const dir = mkdtempSync(join(tmpdir(), 'mdmkit-sqlite-wait-'));
const packageDir = resolve(import.meta.dirname, '..');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Another process takes the write lock of `path` (`begin` it), holds it for `holdMs` and commits. */
async function holdWriteLock(
  path: string,
  holdMs: number,
  begin = 'BEGIN IMMEDIATE',
): Promise<{ done: Promise<number | null> }> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.exec(process.argv[3]);
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.argv[2]));
  `;
  const child = spawn(process.execPath, ['-e', script, path, String(holdMs), begin], {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const done = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) ok();
    });
    child.on('exit', (code) => fail(new Error(`lock holder exited early (${code})`)));
  });
  return { done };
}

describe('sqlite busyTimeoutMs bounds the wait of every write', () => {
  it('fails each of many writes queued behind a held lock once busyTimeoutMs has passed for it', async () => {
    const path = join(dir, `many-${Date.now()}.sqlite`);
    const s = await createSqliteStorage({ path, busyTimeoutMs: 300 });
    const holder = await holdWriteLock(path, 4_000);
    const start = performance.now();
    const waits = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        s
          .enqueueCommand({ uuid: `c-${i}`, requestType: 'DeviceInformation', payload: new Uint8Array(1) }, [
            'UDID-1',
          ])
          .then(
            () => ({ busy: false, ms: performance.now() - start }),
            (e: unknown) => ({ busy: isStorageError(e, 'BUSY'), ms: performance.now() - start }),
          ),
      ),
    );
    expect(waits.every((w) => w.busy)).toBe(true);
    // every write asked for at once gives up after about busyTimeoutMs, not after one more
    // busyTimeoutMs for every batch queued ahead of it
    expect(Math.max(...waits.map((w) => w.ms))).toBeLessThan(900);
    await holder.done;
    await s.close();
  });

  it('fails a write asked for while an earlier one waits once its own busyTimeoutMs has passed', async () => {
    const path = join(dir, `later-${Date.now()}.sqlite`);
    const s = await createSqliteStorage({ path, busyTimeoutMs: 600 });
    const holder = await holdWriteLock(path, 4_000);
    const first = s.authenticate({ id: 'UDID-1' }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    const start = performance.now();
    const later = await s.authenticate({ id: 'UDID-2' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const waited = performance.now() - start;
    expect(isStorageError(await first, 'BUSY')).toBe(true);
    expect(isStorageError(later, 'BUSY')).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(550);
    // not the rest of the earlier write's wait and then a whole busyTimeoutMs of its own
    expect(waited).toBeLessThan(900);
    await holder.done;
    await s.close();
  });

  it('waits for a lock that keeps readers out, as writes do, instead of failing a read at once', async () => {
    // a handle passed in keeps its journal mode; in rollback-journal mode a writer's EXCLUSIVE lock
    // keeps readers out too
    const db = new Database(join(dir, `journal-${Date.now()}.sqlite`));
    const s = await createSqliteStorage({ database: db, busyTimeoutMs: 3_000 });
    await s.authenticate({ id: 'UDID-1' });
    const holder = await holdWriteLock(db.name, 400, 'BEGIN EXCLUSIVE');
    const start = performance.now();
    const [enrollment, queue] = await Promise.all([s.getEnrollment('UDID-1'), s.listQueue('UDID-1')]);
    expect(performance.now() - start).toBeGreaterThanOrEqual(300);
    expect(enrollment?.id).toBe('UDID-1');
    expect(queue).toEqual([]);
    expect(await holder.done).toBe(0);
    await s.close();
    db.close();
  });

  it('ends a read waiting for a lock with CLOSED when the storage is closed meanwhile', async () => {
    const db = new Database(join(dir, `closing-${Date.now()}.sqlite`));
    const s = await createSqliteStorage({ database: db, busyTimeoutMs: 3_000 });
    await s.authenticate({ id: 'UDID-1' });
    const holder = await holdWriteLock(db.name, 400, 'BEGIN EXCLUSIVE');
    const reads = [s.exportEnrollments(), s.getEnrollment('UDID-1')].map((p) =>
      p.then(
        () => 'read',
        (e: unknown) => (isStorageError(e, 'CLOSED') ? 'CLOSED' : e),
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    await s.close();
    expect(await Promise.all(reads)).toEqual(['CLOSED', 'CLOSED']);
    await holder.done;
    db.close();
  });
});
