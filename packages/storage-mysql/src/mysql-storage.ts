import type { CommonStorageOptions } from '@mdmkit/storage';
import { migrated, SqlStorage, sqlContext } from '@mdmkit/storage/sql';
import { depStore } from './dep-store';
import { outboxStore } from './outbox-store';
import { secretStore } from './secret-store';
import { lifecycleStore } from './lifecycle-store';
import type { Ctx } from './context';
import * as enrollments from './enrollments';
import * as leases from './leases';
import { migrateMysql } from './migrations';
import { openDatabase, type MyDatabase, type MysqlConnectionOptions } from './pool';
import * as pushCerts from './push-certs';
import * as queries from './queries';
import * as queue from './queue';
import * as scep from './scep';

const operations = { ...enrollments, ...queue, ...queries, ...scep, ...pushCerts, ...leases };

/** Options of {@link createMysqlStorage}. */
export interface MysqlStorageOptions extends MysqlConnectionOptions, CommonStorageOptions {
  /** Run `migrate()` before returning. Default true. */
  migrate?: boolean;
}

/**
 * Connects, migrates (unless `migrate: false`) and returns a storage that implements every
 * `@mdmkit/storage` interface on MySQL 8.0 or MariaDB 10.6 and newer. Throws StorageError `UNAVAILABLE` naming the
 * URL (password removed) when the server does not answer.
 *
 * @example
 * ```ts
 * import { createMysqlStorage } from '@mdmkit/storage-mysql';
 * const storage = await createMysqlStorage({ url: 'mysql://mdm:secret@127.0.0.1:3306/mdm' });
 * await storage.enqueueCommand({ uuid, requestType: 'DeviceInformation', payload }, udids);
 * // ...
 * await storage.close();
 * ```
 */
export async function createMysqlStorage(options: MysqlStorageOptions): Promise<MysqlStorage> {
  return migrated(new MysqlStorage(await openDatabase(options), options), options);
}

/**
 * The MySQL / MariaDB adapter. Create it with {@link createMysqlStorage}. Record result + pick next
 * is one short transaction in a fixed lock order, fan-out uses multi-row INSERTs in large batches,
 * last-seen writes are coalesced, and deadlocks and lock wait timeouts are retried inside.
 *
 * @example
 * ```ts
 * const storage = await createMysqlStorage({ url: 'mysql://mdm:secret@db:3306/mdm' });
 * await storage.enqueueCommand({ uuid, requestType: 'DeviceInformation', payload }, udids);
 * const next = await storage.nextCommand(udids[0]);
 * const { outcome } = await storage.recordResult({ enrollmentId: udids[0], commandUuid: uuid, status: 'Acknowledged', payload: report });
 * ```
 */
export class MysqlStorage extends SqlStorage<Ctx> {
  /** Prefer {@link createMysqlStorage}, which connects and migrates. */
  constructor(db: MyDatabase, options: CommonStorageOptions = {}) {
    super({
      ctx: sqlContext(db, options),
      operations,
      stores: { ...depStore, ...secretStore, ...outboxStore, ...lifecycleStore },
      migrate: (ctx) => migrateMysql(ctx.db),
      close: (ctx) => ctx.db.pool.end(),
    });
  }

  /** The database this storage works in. */
  get database(): string {
    return this.context.db.database;
  }
}
