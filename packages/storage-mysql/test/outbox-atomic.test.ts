import { uniqueName } from '@mdmkit/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { createMysqlStorage } from '../src/index';
import { admin, mysqlAvailable, urlFor } from './peer';

const databases: string[] = [];
const bytes = (s: string) => new TextEncoder().encode(s);

// An event row the database refuses (an id longer than its column, past limits raised on purpose)
// must take the change it came with down too: the report stays unanswered, the TokenUpdate unstored.
// On MySQL the report path with events runs from the client, not in the stored procedure.
describe.runIf(mysqlAvailable())('mysql: outbox events commit with their change or not at all', () => {
  afterAll(async () => {
    for (const d of databases) await admin(`DROP DATABASE IF EXISTS ${d}`);
  });

  it('rolls back a result and a TokenUpdate whose event cannot be stored', async () => {
    const database = uniqueName('mdmkit_outbox_atomic');
    databases.push(database);
    await admin(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const s = await createMysqlStorage({ url: urlFor(database), poolSize: 2, limits: { maxKeyLength: 400 } });
    try {
      const refused = [{ id: 'x'.repeat(300), topic: 'mdm.test', payload: bytes('{}') }];
      await s.tokenUpdate({ id: 'DEV', channel: 'device', topic: 't', pushToken: 'aa', pushMagic: 'm' });
      await expect(
        s.tokenUpdate({
          id: 'DEV',
          channel: 'device',
          topic: 't',
          pushToken: 'bb',
          pushMagic: 'm',
          outbox: refused,
        }),
      ).rejects.toThrow();
      const rec = await s.getEnrollment('DEV');
      expect([rec?.tokenUpdateTally, rec?.pushToken]).toEqual([1, 'aa']);

      await s.enqueueCommand({ uuid: 'C1', requestType: 'ProfileList', payload: bytes('<plist/>') }, ['DEV']);
      for (const status of ['Acknowledged', 'NotNow'] as const) {
        await expect(
          s.recordResult({
            enrollmentId: 'DEV',
            status,
            commandUuid: 'C1',
            payload: bytes('r'),
            outbox: refused,
          }),
        ).rejects.toThrow();
        expect(await s.getResults('C1')).toEqual([]);
        const [entry] = await s.listQueue('DEV');
        expect([entry?.uuid, entry?.notNowCount]).toEqual(['C1', 0]);
      }
      // With a storable event, both are there.
      const ok = [{ id: 'ack-1', topic: 'mdm.Connect', payload: bytes('{}') }];
      const r = await s.recordResult({
        enrollmentId: 'DEV',
        status: 'Acknowledged',
        commandUuid: 'C1',
        outbox: ok,
      });
      expect(r.outcome).toBe('stored');
      expect((await s.getResults('C1')).map((x) => x.status)).toEqual(['Acknowledged']);
      const claimed = await s.claimOutbox('w', { limit: 10, leaseMs: 1000 });
      expect(claimed.map((e) => e.id)).toEqual(['ack-1']);
    } finally {
      await s.close();
    }
  });
});
