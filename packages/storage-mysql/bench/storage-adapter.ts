import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import mysql from 'mysql2/promise';
import { createMysqlStorage } from '../src/index';

// Plugged into @mdmkit/storage's bench harness (packages/storage/bench/index.ts). The peer, measured
// in the same run on the same server: raw mysql2 doing one-row UPDATE commits from 8 connections.
const url =
  process.env.MDMKIT_BENCH_MYSQL_URL ??
  process.env.MDMKIT_TEST_MYSQL_URL ??
  'mysql://root@127.0.0.1:3306/test';
const server = new URL(url);

const connect = (database?: string) =>
  mysql.createConnection({
    host: server.hostname || '127.0.0.1',
    port: Number(server.port || 3306),
    user: decodeURIComponent(server.username || 'root'),
    password: decodeURIComponent(server.password),
    ...(database ? { database } : {}),
    connectTimeout: 3000,
  });

async function admin(sql: string): Promise<void> {
  const c = await connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function urlFor(database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

let serverVersion = 'unknown server';

export const adapter = {
  name: 'mysql',
  maxHandles: 8,
  async unavailable(): Promise<string | undefined> {
    try {
      const c = await connect();
      const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
      serverVersion = String(rows[0]?.v);
      await c.end();
      return undefined;
    } catch (e) {
      return `MySQL not reachable (${(e as Error).message})`;
    }
  },
  describe(): string {
    const { version } = createRequire(import.meta.url)('mysql2/package.json') as { version: string };
    return `Reproduce: \`npx -y pnpm@10.34.8 --filter @mdmkit/storage-mysql run bench\` (5 s per client count). mysql2 ${version}, server ${serverVersion} on ${server.host} (InnoDB defaults: innodb_flush_log_at_trx_commit=1), a fresh database per size, up to 8 pools × 4 connections.`;
  },
  async create() {
    const database = `mdmkit_bench_${randomBytes(4).toString('hex')}`;
    await admin(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    return {
      open: () => createMysqlStorage({ url: urlFor(database), poolSize: 4 }),
      destroy: () => admin(`DROP DATABASE IF EXISTS ${database}`),
    };
  },
  /** Peer: one-row UPDATE commits from 8 raw mysql2 connections for 5 s, the server's write ceiling. */
  async baseline(): Promise<string[]> {
    const database = `mdmkit_peer_${randomBytes(4).toString('hex')}`;
    await admin(`CREATE DATABASE ${database}`);
    try {
      const setup = await connect(database);
      await setup.query('CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB');
      await setup.query(
        `INSERT INTO t (id, v) VALUES ${Array.from({ length: 1000 }, (_, i) => `(${i}, 0)`).join(',')}`,
      );
      await setup.end();
      const conns = await Promise.all(Array.from({ length: 8 }, () => connect(database)));
      let done = 0;
      const t = performance.now();
      const deadline = t + 5000;
      await Promise.all(
        conns.map(async (c, i) => {
          let id = i;
          while (performance.now() < deadline) {
            await c.execute('UPDATE t SET v = v + 1 WHERE id = ?', [id]);
            id = (id + 8) % 1000;
            done++;
          }
        }),
      );
      const rate = done / ((performance.now() - t) / 1000);
      await Promise.all(conns.map((c) => c.end()));
      return [
        `Peer, same run: raw mysql2, one-row UPDATE autocommit transactions from 8 connections for 5 s on the same server: ${Math.round(rate).toLocaleString('en')} /s.`,
      ];
    } finally {
      await admin(`DROP DATABASE IF EXISTS ${database}`);
    }
  },
};
