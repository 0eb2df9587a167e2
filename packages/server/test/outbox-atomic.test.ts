// "Stored with the state change that caused it": a failure between a device's write and its event
// (simulated by a database trigger that refuses the event row) must leave neither, so the device's
// retry stores both. Run on SQLite and PostgreSQL, through the whole server.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceInformationCommand } from '@mdmkit/commands';
import type { MdmStorage, OutboxStore } from '@mdmkit/storage';
import { createPostgresStorage } from '@mdmkit/storage-postgres';
import { createSqliteStorage } from '@mdmkit/storage-sqlite';
import { postgresReachable, postgresTestUrl, uniqueName } from '@mdmkit/test-support';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookEvent } from '../src/index';
import { type Harness, startHarness } from './harness';

interface Faulty {
  storage: MdmStorage & OutboxStore;
  /** From now on, inserting an outbox row whose body contains `text` fails inside the database. */
  refuseEventsContaining(text: string): Promise<void>;
  allowEvents(): Promise<void>;
  destroy(): Promise<void>;
}

const BACKENDS: { name: string; available: boolean; open(): Promise<Faulty> }[] = [
  {
    name: 'sqlite',
    available: true,
    async open() {
      // better-sqlite3 is the SQLite adapter's dependency; the test reaches it through that package.
      const require = createRequire(new URL('../../storage-sqlite/package.json', import.meta.url));
      type SqliteDatabase = NonNullable<Parameters<typeof createSqliteStorage>[0]['database']>;
      const Database = require('better-sqlite3') as new (path: string) => SqliteDatabase;
      const dir = mkdtempSync(join(tmpdir(), 'mdmkit-outbox-atomic-'));
      const db = new Database(join(dir, 'mdm.db'));
      const storage = await createSqliteStorage({ database: db });
      return {
        storage: storage as MdmStorage & OutboxStore,
        async refuseEventsContaining(text) {
          db.exec(`CREATE TRIGGER refuse_event BEFORE INSERT ON outbox
                   WHEN instr(CAST(NEW.payload AS TEXT), '${text}') > 0
                   BEGIN SELECT RAISE(ABORT, 'simulated failure between the change and its event'); END`);
        },
        async allowEvents() {
          db.exec('DROP TRIGGER refuse_event');
        },
        async destroy() {
          await storage.close();
          db.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    available: postgresReachable('outbox atomicity on PostgreSQL'),
    async open() {
      const url = postgresTestUrl();
      const schema = uniqueName('mdmkit_outbox');
      const storage = await createPostgresStorage({ url, schema, poolSize: 4 });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return {
        storage: storage as unknown as MdmStorage & OutboxStore,
        async refuseEventsContaining(text) {
          await client.query(`CREATE FUNCTION ${schema}.refuse_event() RETURNS trigger AS $$
            BEGIN
              IF position('${text}' IN convert_from(NEW.payload, 'UTF8')) > 0 THEN
                RAISE EXCEPTION 'simulated failure between the change and its event';
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql`);
          await client.query(
            `CREATE TRIGGER refuse_event BEFORE INSERT ON ${schema}.outbox FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse_event()`,
          );
        },
        async allowEvents() {
          await client.query(`DROP TRIGGER refuse_event ON ${schema}.outbox`);
          await client.query(`DROP FUNCTION ${schema}.refuse_event()`);
        },
        async destroy() {
          await storage.close();
          await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await client.end();
        },
      };
    },
  },
];

async function events(storage: OutboxStore): Promise<WebhookEvent[]> {
  const claimed = await storage.claimOutbox('inspect', {
    limit: 1000,
    leaseMs: 1,
    now: new Date(Date.now() + 60_000),
  });
  return claimed.map((e) => JSON.parse(Buffer.from(e.payload).toString('utf8')) as WebhookEvent);
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`outbox atomicity on ${backend.name}`, () => {
    let f: Faulty;
    let h: Harness;
    let mac: VirtualDevice;

    beforeAll(async () => {
      f = await backend.open();
      h = await startHarness(f.storage, { outbox: true });
      mac = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch, platform: 'iOS' });
    });
    afterAll(async () => {
      await h?.close();
      await f?.destroy();
    });

    it('a TokenUpdate whose event cannot be stored is not stored either, and its retry stores both', async () => {
      const before = (await f.storage.getEnrollment(mac.udid))?.tokenUpdateTally;
      expect(before).toBe(1);
      const typedBefore = h.events.filter((e) => e.type === 'token-update').length;
      await f.refuseEventsContaining('"topic":"mdm.TokenUpdate"');
      await expect(mac.tokenUpdate()).rejects.toThrow();
      expect((await f.storage.getEnrollment(mac.udid))?.tokenUpdateTally).toBe(1);
      expect(h.events.filter((e) => e.type === 'token-update')).toHaveLength(typedBefore);
      await f.allowEvents();
      await mac.tokenUpdate();
      expect((await f.storage.getEnrollment(mac.udid))?.tokenUpdateTally).toBe(2);
      const stored = (await events(f.storage)).filter((e) => e.topic === 'mdm.TokenUpdate');
      // One from enrollment, one from the retry; none from the refused attempt.
      expect(stored).toHaveLength(2);
    });

    it('a result whose event cannot be stored stays queued, and the retry stores result and event', async () => {
      const command = deviceInformationCommand({ Queries: ['SerialNumber'] });
      await h.mdm.enqueue(command, [mac.udid], { push: false });
      await f.refuseEventsContaining('"status":"Acknowledged"');
      const errors = h.events.filter((e) => e.type === 'error').length;
      // The device answers; the server fails that request (500), so the device will answer again.
      await expect(mac.poll()).rejects.toThrow(/500/);
      expect(h.events.filter((e) => e.type === 'error').length).toBe(errors + 1);
      expect(await f.storage.getResults(command.CommandUUID)).toEqual([]);
      expect((await f.storage.listQueue(mac.udid)).map((q) => q.uuid)).toEqual([command.CommandUUID]);
      await f.allowEvents();
      expect((await mac.poll()).map((c) => c.commandUuid)).toEqual([command.CommandUUID]);
      const results = await f.storage.getResults(command.CommandUUID);
      expect(results.map((r) => r.status)).toEqual(['Acknowledged']);
      const acks = (await events(f.storage)).filter(
        (e) =>
          e.acknowledge_event?.command_uuid === command.CommandUUID &&
          e.acknowledge_event.status === 'Acknowledged',
      );
      expect(acks).toHaveLength(1);
    });
  });
}
