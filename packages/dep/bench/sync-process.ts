// One full initial sync in a fresh process: `ours` (DepSyncer into MemoryDepStore, the whole path:
// session, typed pages, fenced page writes, events) or `baseline` (undici fetch + JSON.parse into a
// Map, no validation and no storage semantics: the floor any client pays for the same pages).
import { randomBytes } from 'node:crypto';
import { createStaticKeyProvider, oauth1Header } from '@mdmkit/crypto';
import { connectDepToken, DepSyncer } from '../src/index';
import { type DepStore, type LeaseStore, MemoryDepStore, MemoryStorage } from '@mdmkit/storage';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { request } from 'undici';

interface Start {
  which: 'ours' | 'sqlite' | 'postgres' | 'baseline';
  url: string;
  credentials: { consumerKey: string; consumerSecret: string; accessToken: string; accessSecret: string };
  expected: number;
}

process.once('message', async (msg: Start) => {
  let peak = process.memoryUsage().rss;
  let atPeak = process.memoryUsage();
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak) {
      peak = m.rss;
      atPeak = m;
    }
  }, 20);
  let t0 = performance.now();
  let stored = 0;
  let cleanup = async () => {};
  let verify = async () => {};
  if (msg.which !== 'baseline') {
    let store: DepStore;
    let leases: LeaseStore;
    if (msg.which === 'ours') {
      store = new MemoryDepStore();
      const memory = new MemoryStorage();
      await memory.migrate();
      leases = memory;
    } else if (msg.which === 'sqlite') {
      // imported here so that the other rows do not load database drivers
      const { createSqliteStorage } = await import('@mdmkit/storage-sqlite');
      // a file on disk with the adapter's defaults (WAL, synchronous=FULL)
      const dir = mkdtempSync(join(tmpdir(), 'mdmkit-dep-bench-'));
      const s = await createSqliteStorage({ path: join(dir, 'dep.sqlite') });
      store = s;
      leases = s;
      cleanup = async () => {
        await s.close();
        rmSync(dir, { recursive: true, force: true });
      };
    } else {
      const { createPostgresStorage } = await import('@mdmkit/storage-postgres');
      // the databases entry alone: the package's root also loads the TypeScript compiler (doc checks),
      // which would count ~100 MB that a server never carries
      const { postgresTestUrl, uniqueName } = await import('@mdmkit/test-support/databases');
      const { default: pg } = await import('pg');
      const url = postgresTestUrl();
      const schema = uniqueName('mdmkit_dep_bench');
      const s = await createPostgresStorage({ url, schema, poolSize: 4 });
      store = s;
      leases = s;
      cleanup = async () => {
        await s.close();
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      };
    }
    // the clock starts once the database is open and migrated: the sync is what is measured
    t0 = performance.now();
    const keyProvider = createStaticKeyProvider(randomBytes(32));
    await connectDepToken(store, keyProvider, {
      name: 'bench',
      token: { ...msg.credentials, accessTokenExpiry: new Date(Date.now() + 86_400_000) },
      baseUrl: msg.url,
    });
    const syncer = new DepSyncer({ store, leases, keyProvider, pageLimit: 1000 });
    const report = await syncer.syncToken('bench');
    stored = report.added;
    if (msg.which !== 'ours') {
      verify = async () => {
        // what the database holds, not what the syncer reported (outside the timed part)
        let n = 0;
        let after: string | undefined;
        do {
          const page = await store.listDepDevices('bench', {
            limit: 1000,
            ...(after !== undefined && { after }),
          });
          n += page.items.length;
          after = page.next;
        } while (after !== undefined);
        stored = Math.min(stored, n);
      };
    }
  } else {
    const session = await sessionOf(msg);
    const devices = new Map<string, unknown>();
    let cursor: string | undefined;
    for (;;) {
      const res = await request(`${msg.url}/server/devices`, {
        method: 'POST',
        headers: {
          'x-adm-auth-session': session,
          'x-server-protocol-version': '3',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ limit: 1000, ...(cursor && { cursor }) }),
      });
      const page = (await res.body.json()) as {
        cursor: string;
        more_to_follow: boolean;
        devices: { serial_number: string }[];
      };
      for (const d of page.devices) devices.set(d.serial_number, d);
      cursor = page.cursor;
      if (!page.more_to_follow) break;
    }
    stored = devices.size;
  }
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  await verify();
  await cleanup();
  peak = Math.max(peak, process.memoryUsage().rss);
  const m = process.memoryUsage();
  process.send?.({
    seconds,
    peakRssMb: peak / 1024 / 1024,
    stored,
    heapUsedMb: m.heapUsed / 1048576,
    rssEndMb: m.rss / 1048576,
    atPeakMb: Object.fromEntries(Object.entries(atPeak).map(([k, v]) => [k, Math.round(v / 1048576)])),
  });
  process.exit(0);
});

/** A session token for the baseline, from the mock's /session with our OAuth header. */
async function sessionOf(msg: Start): Promise<string> {
  const res = await request(`${msg.url}/session`, {
    headers: { authorization: oauth1Header('GET', `${msg.url}/session`, msg.credentials) },
  });
  return ((await res.body.json()) as { auth_session_token: string }).auth_session_token;
}
