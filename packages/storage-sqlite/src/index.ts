export { createSqliteStorage, SqliteStorage } from './sqlite';
export type { SqliteStorageOptions } from './options';
export { sqliteMigrations } from './schema';
export { sqliteFeatureMigrations } from './feature-schema';
