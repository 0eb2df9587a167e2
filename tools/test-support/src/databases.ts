import { randomBytes } from 'node:crypto';

/** PostgreSQL URL for tests; override with MDMKIT_TEST_POSTGRES_URL. */
export function postgresTestUrl(): string {
  return process.env.MDMKIT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** MySQL/MariaDB URL for tests; override with MDMKIT_TEST_MYSQL_URL. */
export function mysqlTestUrl(): string {
  return process.env.MDMKIT_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
}

/** A schema/database name unique to this test run, safe as an unquoted SQL identifier. */
export function uniqueName(prefix = 'mdmkit_test'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}
