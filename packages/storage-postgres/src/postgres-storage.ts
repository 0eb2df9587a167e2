import type { CommonStorageOptions } from '@mdmkit/storage';
import { migrated, SqlStorage, sqlContext } from '@mdmkit/storage/sql';
import { depStore } from './dep-store';
import { outboxStore } from './outbox-store';
import { secretStore } from './secret-store';
import { lifecycleStore } from './lifecycle-store';
import type { Ctx } from './context';
import * as enrollments from './enrollments';
import * as leases from './leases';
import { migratePostgres } from './migrations';
import { openDatabase, type PgDatabase, type PostgresConnectionOptions } from './pool';
import * as pushCerts from './push-certs';
import * as queries from './queries';
import * as queue from './queue';
import * as scep from './scep';

const operations = { ...enrollments, ...queue, ...queries, ...scep, ...pushCerts, ...leases };

/** Options of {@link createPostgresStorage}. */
export interface PostgresStorageOptions extends PostgresConnectionOptions, CommonStorageOptions {
  /** Run `migrate()` before returning. Default true. */
  migrate?: boolean;
}

/**
 * Connects, migrates (unless `migrate: false`) and returns a storage that implements every
 * `@mdmkit/storage` interface on PostgreSQL 12 or newer. Throws StorageError `UNAVAILABLE` naming the
 * URL (password removed) when the server does not answer.
 *
 * @example
 * ```ts
 * import { createPostgresStorage } from '@mdmkit/storage-postgres';
 * const storage = await createPostgresStorage({ url: process.env.DATABASE_URL!, schema: 'mdm' });
 * await storage.enqueueCommand({ uuid, requestType: 'DeviceInformation', payload }, udids);
 * // ...
 * await storage.close();
 * ```
 */
export async function createPostgresStorage(options: PostgresStorageOptions): Promise<PostgresStorage> {
  return migrated(new PostgresStorage(await openDatabase(options), options), options);
}

/**
 * The PostgreSQL adapter. Create it with {@link createPostgresStorage}. Hot paths are single
 * statements (next command; record result + pick next), fan-out is set-based, last-seen writes are
 * coalesced, and serialization failures and deadlocks are retried inside.
 *
 * @example
 * ```ts
 * const storage = await createPostgresStorage({ url, schema: 'mdm' });
 * // check-in
 * await storage.authenticate({ id: udid, serialNumber, topic });
 * await storage.tokenUpdate({ id: udid, channel: 'device', topic, pushToken, pushMagic });
 * // connect endpoint: store the device's report, get what to send next
 * const { outcome, next } = await storage.recordResult({ enrollmentId: udid, commandUuid, status: 'Acknowledged', payload });
 * ```
 */
export class PostgresStorage extends SqlStorage<Ctx> {
  /** Prefer {@link createPostgresStorage}, which connects and migrates. */
  constructor(db: PgDatabase, options: CommonStorageOptions = {}) {
    super({
      ctx: sqlContext(db, options),
      operations,
      stores: { ...depStore, ...secretStore, ...outboxStore, ...lifecycleStore },
      migrate: (ctx) => migratePostgres(ctx.db),
      close: (ctx) => ctx.db.pool.end(),
    });
  }

  /** The schema this storage works in. */
  get schema(): string {
    return this.context.db.schema;
  }
}
