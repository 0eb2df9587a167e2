import { redactUrl } from '@mdmkit/storage/sql';
import { createMysqlStorage } from '@mdmkit/storage-mysql';
import { createPostgresStorage } from '@mdmkit/storage-postgres';
import { createSqliteStorage } from '@mdmkit/storage-sqlite';
import type { StorageConfig } from './config';
import { ReferenceServerError } from './errors';
import { hasServerStores, type ServerStorage } from './stores';

/**
 * Opens (and migrates) the configured storage. A failure names the storage without its password.
 *
 * @example
 * ```ts
 * const storage = await openStorage({ kind: 'sqlite', path: '/var/lib/mdmkit/mdmkit.db' });
 * ```
 */
export async function openStorage(config: StorageConfig): Promise<ServerStorage> {
  const where = config.kind === 'sqlite' ? `sqlite:${config.path}` : redactUrl(config.url);
  let storage:
    | Awaited<ReturnType<typeof createSqliteStorage>>
    | Awaited<ReturnType<typeof createPostgresStorage>>
    | Awaited<ReturnType<typeof createMysqlStorage>>;
  try {
    if (config.kind === 'sqlite') storage = await createSqliteStorage({ path: config.path });
    else if (config.kind === 'postgres') {
      storage = await createPostgresStorage({
        url: config.url,
        applicationName: 'mdmkit-server',
        ...(config.schema !== undefined ? { schema: config.schema } : {}),
      });
    } else storage = await createMysqlStorage({ url: config.url });
  } catch (e) {
    throw new ReferenceServerError(
      'STARTUP_FAILED',
      `cannot open storage ${where}: ${(e as Error).message}`,
      {
        cause: e,
        setting: 'storage',
      },
    );
  }
  if (!hasServerStores(storage)) {
    await (storage as { close(): Promise<void> }).close();
    throw new ReferenceServerError(
      'STARTUP_FAILED',
      `storage ${where} keeps no sealed secrets or audit events`,
      {
        setting: 'storage',
      },
    );
  }
  return storage;
}
