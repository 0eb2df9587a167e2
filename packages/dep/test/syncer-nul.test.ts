// A device string holding U+0000 (which PostgreSQL text cannot store) must not stop the sync at
// its page: the page is stored with the character replaced and the cursor moves on.
import { randomBytes } from 'node:crypto';
import { createStaticKeyProvider } from '@mdmkit/crypto';
import { type DepStore, type LeaseStore, MemoryDepStore, MemoryStorage } from '@mdmkit/storage';
import { createPostgresStorage } from '@mdmkit/storage-postgres';
import { postgresReachable, postgresTestUrl, uniqueName } from '@mdmkit/test-support';
import { type MockDep, startMockDep } from '@mdmkit/testkit/mock-dep';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { connectDepToken, DepSyncer } from '../src/index';
import { fakeClock } from './fake-clock';

interface Opened {
  store: DepStore;
  leases: LeaseStore;
  destroy(): Promise<void>;
}

const backends: { name: string; available: boolean; open(): Promise<Opened> }[] = [
  {
    name: 'memory',
    available: true,
    async open() {
      const leases = new MemoryStorage();
      await leases.migrate();
      return { store: new MemoryDepStore(), leases, destroy: async () => {} };
    },
  },
  {
    name: 'postgres',
    available: postgresReachable('DEP sync of a device with U+0000 on PostgreSQL'),
    async open() {
      const url = postgresTestUrl();
      const schema = uniqueName('mdmkit_dep_nul');
      const storage = await createPostgresStorage({ url, schema, poolSize: 2 });
      return {
        store: storage,
        leases: storage,
        async destroy() {
          await storage.close();
          const c = new pg.Client({ connectionString: url });
          await c.connect();
          try {
            await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          } finally {
            await c.end();
          }
        },
      };
    },
  },
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const keyProvider = createStaticKeyProvider(randomBytes(32));

describe.each(backends)('DepSyncer on $name storage', (b) => {
  it.skipIf(!b.available)(
    'stores a page whose device strings hold U+0000 (replaced by U+FFFD) and moves the cursor past it',
    async () => {
      const mock: MockDep = await startMockDep({ devices: 3 });
      cleanups.push(() => mock.close());
      const { store, leases, destroy } = await b.open();
      cleanups.push(destroy);
      await connectDepToken(store, keyProvider, {
        name: 'main',
        token: { ...mock.credentials, accessTokenExpiry: new Date('2031-01-01T00:00:00Z') },
        baseUrl: mock.url,
      });
      const syncer = new DepSyncer({ store, leases, keyProvider, pageLimit: 2, clock: fakeClock() });
      await syncer.syncToken('main');
      const before = await store.getDepCursor('main');

      mock.addDevice('C02NUL\u0000X', { model: 'Mac\u0000mini', description: '\u0000' });
      mock.addDevice('C02AFTER', { model: 'Mac Pro' });
      const report = await syncer.syncToken('main');

      expect(report).toMatchObject({ ran: true, added: 2 });
      const after = await store.getDepCursor('main');
      expect(after?.phase).toBe('sync');
      expect(after?.cursor).not.toBe(before?.cursor);
      const d = await store.getDepDevice('main', 'C02NUL\uFFFDX');
      expect(d).toMatchObject({ model: 'Mac\uFFFDmini', description: '\uFFFD', deleted: false });
      // What Apple sent is kept: its JSON escapes the character.
      expect(JSON.parse(d!.raw!)).toMatchObject({ serial_number: 'C02NUL\u0000X', model: 'Mac\u0000mini' });
      expect(await store.getDepDevice('main', 'C02AFTER')).toMatchObject({ model: 'Mac Pro' });
      // And the next run starts from there instead of failing on the same page again.
      expect(await syncer.syncToken('main')).toMatchObject({ added: 0, modified: 0 });
    },
  );
});
