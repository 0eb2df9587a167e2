import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isStorageError, StorageError } from '@mdmkit/storage';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { withFeatureMigrations } from '@mdmkit/storage/sql';
import { createSqliteStorage, sqliteFeatureMigrations, sqliteMigrations } from '../src/index';

const dir = mkdtempSync(join(tmpdir(), 'mdmkit-sqlite-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite faults', () => {
  it('names the path when the file cannot be opened', async () => {
    const path = join(dir, 'missing-dir', 'mdm.sqlite');
    const err = await createSqliteStorage({ path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect((err as Error).message).toContain(path);
  });

  it('rejects a file that is not a SQLite database', async () => {
    const path = join(dir, 'garbage.sqlite');
    writeFileSync(path, Buffer.alloc(4096, 0x41));
    const err = await createSqliteStorage({ path }).catch((e: unknown) => e);
    expect(isStorageError(err, 'UNAVAILABLE')).toBe(true);
  });

  it('requires a path or a database', async () => {
    await expect(createSqliteStorage({})).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('waits out and retries a lock held by another connection', async () => {
    const path = join(dir, 'busy.sqlite');
    // busyTimeoutMs bounds the whole wait, so it must outlast the 150 ms the lock is held
    const s = await createSqliteStorage({ path, busyTimeoutMs: 2_000 });
    const locker = new Database(path);
    locker.exec('BEGIN IMMEDIATE');
    const released = new Promise<void>((r) =>
      setTimeout(() => {
        locker.exec('COMMIT');
        r();
      }, 150),
    );
    const t = Date.now();
    await s.authenticate({ id: 'UDID-busy' });
    expect(Date.now() - t).toBeGreaterThanOrEqual(100);
    await released;
    expect((await s.getEnrollment('UDID-busy'))?.id).toBe('UDID-busy');
    locker.close();
    await s.close();
  });

  it('gives up with a retryable BUSY when the lock is never released, storing nothing', async () => {
    const path = join(dir, 'stuck.sqlite');
    const s = await createSqliteStorage({ path, busyTimeoutMs: 5 });
    await s.enqueueCommand({ uuid: 'c1', requestType: 'X', payload: new Uint8Array(1) }, ['U']);
    const locker = new Database(path);
    locker.exec('BEGIN IMMEDIATE');
    const err = await s
      .recordResult({ enrollmentId: 'U', commandUuid: 'c1', status: 'Acknowledged' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'StorageError', code: 'BUSY', retryable: true });
    locker.exec('ROLLBACK');
    locker.close();
    // the failed attempt left no half-stored result: the command is still queued and can be answered
    expect((await s.nextCommand('U'))?.uuid).toBe('c1');
    expect(
      (await s.recordResult({ enrollmentId: 'U', commandUuid: 'c1', status: 'Acknowledged' })).outcome,
    ).toBe('stored');
    await s.close();
  });

  it('refuses a database migrated by newer code', async () => {
    const path = join(dir, 'newer.sqlite');
    const s = await createSqliteStorage({ path });
    await s.close();
    const raw = new Database(path);
    raw
      .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
      .run(9999, 'future', 0);
    raw.close();
    await expect(createSqliteStorage({ path })).rejects.toMatchObject({ code: 'MIGRATION_FAILED' });
    // and read-only opening skips migration entirely
    const ro = await createSqliteStorage({ path, readonly: true });
    expect(await ro.getEnrollment('x')).toBeUndefined();
    await ro.close();
  });

  it('migrates once when several processes open a new file at the same time', async () => {
    const path = join(dir, 'multi.sqlite');
    const script = join(dir, 'open.mts');
    const src = resolve(__dirname, '../src/index.ts');
    writeFileSync(
      script,
      `import { createSqliteStorage } from ${JSON.stringify(src)};
// start together: wait for the parent's go once every process has loaded
console.log('ready');
await new Promise((r) => process.stdin.once('data', r));
process.stdin.destroy();
const s = await createSqliteStorage({ path: process.argv[2] });
const r = await s.migrate();
await s.authenticate({ id: 'P' + process.pid });
await s.close();
console.log(JSON.stringify(r));`,
    );
    const tsx = resolve(__dirname, '../../../node_modules/tsx/dist/cli.mjs');
    let ready = 0;
    const children: ReturnType<typeof spawn>[] = [];
    const go = () => {
      if (++ready === 3) for (const c of children) c.stdin?.end('go\n');
    };
    const run = () =>
      new Promise<string>((ok, fail) => {
        const p = spawn(process.execPath, [tsx, '--conditions=mdmkit-source', script, path], {
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        children.push(p);
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => {
          if (!out.includes('ready') && `${out}${d}`.includes('ready')) go();
          out += d;
        });
        p.stderr.on('data', (d) => {
          err += d;
        });
        p.on('exit', (code) => (code === 0 ? ok(out) : fail(new Error(`child failed: ${err}`))));
      });
    let outs: string[];
    try {
      outs = await Promise.all([run(), run(), run()]);
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill();
    }
    // the core versions and every feature's, each applied once
    const all = withFeatureMigrations(sqliteMigrations, sqliteFeatureMigrations);
    expect(outs.every((o) => o.includes(`"version":${all.at(-1)!.version}`))).toBe(true);
    const db = new Database(path, { readonly: true });
    const versions = db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[];
    expect(versions.map((v) => v.version).sort((a, b) => a - b)).toEqual(all.map((m) => m.version));
    expect(
      (db.prepare("SELECT count(*) AS n FROM enrollments WHERE id LIKE 'P%'").get() as { n: number }).n,
    ).toBe(3);
    db.close();
  }, 60_000);
});

describe('sqlite read faults', () => {
  it('reports a database damaged after opening as UNAVAILABLE', async () => {
    const path = join(dir, 'damaged.sqlite');
    const s = await createSqliteStorage({ path });
    for (let i = 0; i < 200; i++) await s.authenticate({ id: `UDID-${i}`, serialNumber: 'x'.repeat(100) });
    await s.close();
    // overwrite every page after the header: the next read of a table hits garbage
    const raw = new Database(path);
    const pageSize = raw.pragma('page_size', { simple: true }) as number;
    raw.close();
    const { openSync, writeSync, fstatSync, closeSync } = await import('node:fs');
    const fd = openSync(path, 'r+');
    const size = fstatSync(fd).size;
    if (size > pageSize) writeSync(fd, Buffer.alloc(size - pageSize, 0x5a), 0, size - pageSize, pageSize);
    closeSync(fd);
    const fresh = await createSqliteStorage({ path, migrate: false }).catch((e: unknown) => e);
    if (fresh instanceof Error) {
      expect(isStorageError(fresh, 'UNAVAILABLE')).toBe(true);
    } else {
      const err = await (fresh as Awaited<ReturnType<typeof createSqliteStorage>>)
        .listEnrollments()
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'StorageError', code: 'UNAVAILABLE' });
      await (fresh as Awaited<ReturnType<typeof createSqliteStorage>>).close();
    }
  });
});
