export { createSqliteStorage, SqliteStorage, type SqliteStorageOptions } from './sqlite';
export { sqliteMigrations } from './schema';
