export { createMysqlStorage, MysqlStorage, type MysqlStorageOptions } from './mysql-storage';
export type { MyDatabase, MysqlConnectionOptions } from './pool';
export { mysqlMigrations } from './schema';
export { redactUrl } from '@mdmkit/storage/sql';
export { mysqlFeatureMigrations } from './feature-schema';
