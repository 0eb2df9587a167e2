import { randomBytes } from 'node:crypto';
import { requirePeer } from './peers';

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

/**
 * Whether the PostgreSQL server of {@link postgresTestUrl} answers a TCP connect; prints a SKIPPED
 * line when it does not, and throws under CI (through `requirePeer`).
 */
export function postgresReachable(what: string): boolean {
  const u = new URL(postgresTestUrl());
  const host = u.hostname || '127.0.0.1';
  const port = u.port || '5432';
  const probe = `require('net').connect(${Number(port)}, ${JSON.stringify(host)}).on('connect', () => process.exit(0)).on('error', () => process.exit(1)).setTimeout(3000, () => process.exit(1))`;
  return requirePeer({ name: `PostgreSQL at ${host}:${port}`, probe: ['node', '-e', probe] }, what);
}
