import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { isStorageError } from '@mdmkit/storage';
import { mysqlTestUrl, uniqueName } from '@mdmkit/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlStorage } from '../src/index';
import { openDatabase, query } from '../src/pool';
import { admin, mysqlAvailable, urlFor } from './peer';

/**
 * A TCP proxy in front of the test server that speaks just enough of the MySQL protocol to answer
 * one kind of statement with an error packet instead of passing it on, the way a server or a proxy
 * that does not accept a setting would. Everything else is relayed unchanged.
 */
async function refusingProxy(
  refuse: RegExp | undefined,
): Promise<{ port: number; server: Server; forwarded: string[] }> {
  const target = new URL(mysqlTestUrl());
  const sockets = new Set<Socket>();
  /** Text of every query packet relayed to the server. */
  const forwarded: string[] = [];
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 3306), target.hostname || '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
    upstream.pipe(client);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readUIntLE(0, 3);
        if (pending.length < 4 + length) break;
        const packet = pending.subarray(0, 4 + length);
        pending = pending.subarray(4 + length);
        const sequence = packet[3];
        const isQuery = sequence === 0 && packet[4] === 0x03;
        if (refuse && isQuery && refuse.test(packet.subarray(5).toString('utf8'))) {
          const message = Buffer.from('this setting is not accepted here');
          const body = Buffer.concat([
            Buffer.from([0xff, 0x99, 0x04]), // error 1177
            Buffer.from('#HY000'),
            message,
          ]);
          const header = Buffer.alloc(4);
          header.writeUIntLE(body.length, 0, 3);
          header[3] = 1;
          client.write(Buffer.concat([header, body]));
        } else {
          if (isQuery) forwarded.push(packet.subarray(5).toString('utf8'));
          upstream.write(packet);
        }
      }
    });
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy did not start');
  return { port: address.port, server, forwarded };
}

describe.skipIf(!mysqlAvailable())('MySQL session settings', () => {
  const database = uniqueName('mdmkit_session');
  const servers: Server[] = [];
  const viaProxy = (port: number) => {
    const u = new URL(urlFor(database));
    u.hostname = '127.0.0.1';
    u.port = String(port);
    return u.toString();
  };

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  });

  afterAll(async () => {
    for (const s of servers) s.close();
    await admin(`DROP DATABASE IF EXISTS ${database}`);
  });

  it('runs every connection at READ COMMITTED, strict and in UTC (through a relaying proxy too)', async () => {
    const { port, server } = await refusingProxy(undefined);
    servers.push(server);
    const db = await openDatabase({ url: viaProxy(port), poolSize: 1 });
    try {
      // MariaDB names the isolation variable tx_isolation, MySQL 8 transaction_isolation
      const rows = await query<{ Variable_name: string; Value: string }[]>(
        db,
        'probe',
        `SHOW SESSION VARIABLES WHERE Variable_name IN ('tx_isolation', 'transaction_isolation', 'sql_mode', 'time_zone')`,
      );
      const vars = new Map(rows.map((r) => [r.Variable_name, r.Value]));
      expect(vars.get('transaction_isolation') ?? vars.get('tx_isolation')).toBe('READ-COMMITTED');
      expect(vars.get('time_zone')).toBe('+00:00');
      expect(vars.get('sql_mode')).toContain('STRICT_ALL_TABLES');
    } finally {
      await db.pool.end();
    }
  });

  it('fails with UNAVAILABLE instead of running at the server default when a setting is refused', async () => {
    const { port, server, forwarded } = await refusingProxy(/^SET SESSION TRANSACTION ISOLATION LEVEL/i);
    servers.push(server);
    const err = await createMysqlStorage({ url: viaProxy(port), poolSize: 1 }).then(
      async (storage) => {
        await storage.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(isStorageError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    // nothing reached the server on the connection after the refused setting
    expect(forwarded).toEqual([]);
  });
});
