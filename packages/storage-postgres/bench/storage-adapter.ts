import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import pg from 'pg';
import { createPostgresStorage } from '../src/index';

// Plugged into @mdmkit/storage's bench harness (packages/storage/bench/index.ts). The peer is the
// server's own ceiling, measured in the same run: pgbench's simple-update transaction.
const url =
  process.env.MDMKIT_BENCH_POSTGRES_URL ??
  process.env.MDMKIT_TEST_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const pgbenchSeconds = Number(process.env.MDMKIT_PGBENCH_SECONDS ?? '30');

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function pgbench(args: string[], database: string): string {
  const u = new URL(url);
  const r = spawnSync(
    'pgbench',
    [
      '-h',
      u.hostname || '127.0.0.1',
      '-p',
      u.port || '5432',
      '-U',
      decodeURIComponent(u.username || 'postgres'),
      ...args,
      database,
    ],
    { encoding: 'utf8', env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } },
  );
  if (r.status !== 0) throw new Error(`pgbench ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

export const adapter = {
  name: 'postgres',
  // 8 pools of 4 connections: up to 32 clients without queueing on a pool
  maxHandles: 8,
  async unavailable(): Promise<string | undefined> {
    try {
      await admin((c) => c.query('SELECT 1'));
      return undefined;
    } catch (e) {
      return `PostgreSQL not reachable (${(e as Error).message})`;
    }
  },
  describe(): string {
    const { version } = createRequire(import.meta.url)('pg/package.json') as { version: string };
    return `Reproduce: \`npx -y pnpm@10.34.8 --filter @mdmkit/storage-postgres run bench\` (5 s per client count). pg ${version}, PostgreSQL on ${new URL(url).host} (default durability: fsync, synchronous_commit on), a fresh schema per size, up to 8 pools × 4 connections.`;
  },
  async create() {
    const schema = `mdmkit_bench_${randomBytes(4).toString('hex')}`;
    return {
      open: () => createPostgresStorage({ url, schema, poolSize: 4 }),
      destroy: () => admin(async (c) => void (await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`))),
    };
  },
  /** Peer: `pgbench -N -c 8 -j 2 -T 30` at scale 10 on the same server, in a throwaway database. */
  async baseline(): Promise<string[]> {
    const database = `mdmkit_pgbench_${randomBytes(4).toString('hex')}`;
    await admin((c) => c.query(`CREATE DATABASE ${database}`));
    try {
      pgbench(['-i', '-q', '-s', '10'], database);
      const out = pgbench(['-N', '-c', '8', '-j', '2', '-T', String(pgbenchSeconds)], database);
      const tps = /tps = ([\d.]+)/.exec(out)?.[1];
      return [
        `Peer, same run: \`pgbench -N -c 8 -j 2 -T ${pgbenchSeconds}\` at scale 10 on the same server: ${tps ? Math.round(Number(tps)).toLocaleString('en') : '?'} TPS ` +
          '(simple-update transactions; target: round trips with 8 clients ≥ 50% of this).',
      ];
    } finally {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database}`));
    }
  },
};
