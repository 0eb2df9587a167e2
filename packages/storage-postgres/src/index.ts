export { createPostgresStorage, PostgresStorage, type PostgresStorageOptions } from './postgres-storage';
export type { PgDatabase, PostgresConnectionOptions } from './pool';
export { postgresMigrations } from './schema';
export { redactUrl } from '@mdmkit/storage/sql';
export { postgresFeatureMigrations } from './feature-schema';
