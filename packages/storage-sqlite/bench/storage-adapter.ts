import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStorage } from '../src/index';

// Plugged into @mdmkit/storage's bench harness (packages/storage/bench/index.ts): the default
// (synchronous=FULL) and the faster synchronous=NORMAL setting.
const make = (name: string, synchronous: 'FULL' | 'NORMAL') => ({
  name,
  // one connection: better-sqlite3 is synchronous, extra connections in one thread only add lock traffic
  maxHandles: 1,
  describe: () => {
    const { version } = createRequire(import.meta.url)('better-sqlite3/package.json') as { version: string };
    const sqlite = (new Database(':memory:').prepare('SELECT sqlite_version() AS v').get() as { v: string })
      .v;
    return `better-sqlite3 ${version} (SQLite ${sqlite}), one file in ${tmpdir()}, WAL, synchronous=${synchronous}, one connection.`;
  },
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'mdmkit-bench-sqlite-'));
    const path = join(dir, 'bench.sqlite');
    return {
      open: () => createSqliteStorage({ path, synchronous }),
      destroy: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  /** Peer: raw better-sqlite3 on the same settings, without the adapter. */
  async baseline(): Promise<string[]> {
    const dir = mkdtempSync(join(tmpdir(), 'mdmkit-bench-sqlite-raw-'));
    try {
      const db = new Database(join(dir, 'raw.sqlite'));
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous}`);
      db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, v INTEGER NOT NULL)');
      const n = 100_000;
      const ins = db.prepare('INSERT INTO t (id, v) VALUES (?, 0)');
      let t = performance.now();
      db.transaction(() => {
        for (let i = 0; i < n; i++) ins.run(`ID-${String(i).padStart(8, '0')}`);
      }).immediate();
      const insertMs = performance.now() - t;
      const upd = db.prepare('UPDATE t SET v = v + 1 WHERE id = ?');
      const txn = db.transaction((id: string) => upd.run(id));
      let done = 0;
      t = performance.now();
      while (performance.now() - t < 2000) txn.immediate(`ID-${String(done++ % n).padStart(8, '0')}`);
      const rate = done / ((performance.now() - t) / 1000);
      db.close();
      return [
        `Peer, same run: raw better-sqlite3 on the same settings — 100,000 single-row inserts in one transaction ${insertMs.toFixed(0)} ms; ` +
          `one-row UPDATE transactions ${Math.round(rate).toLocaleString('en')} /s (the ceiling for one write transaction per round trip).`,
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

export const adapters = [make('sqlite', 'FULL'), make('sqlite-normal', 'NORMAL')];
