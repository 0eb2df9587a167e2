import { mysqlTestUrl, requirePeer } from '@mdmkit/test-support';
import mysql from 'mysql2/promise';

/**
 * Whether the MySQL/MariaDB server in MDMKIT_TEST_MYSQL_URL answers (a TCP connect to its host and
 * port); prints a SKIPPED line otherwise, and throws under CI.
 */
export function mysqlAvailable(): boolean {
  const u = new URL(mysqlTestUrl());
  const host = u.hostname || '127.0.0.1';
  const port = u.port || '3306';
  const probe = `require('net').connect(${Number(port)}, ${JSON.stringify(host)}).on('connect', () => process.exit(0)).on('error', () => process.exit(1)).setTimeout(3000, () => process.exit(1))`;
  return requirePeer(
    { name: `MySQL at ${host}:${port}`, probe: ['node', '-e', probe] },
    'MySQL adapter tests',
  );
}

/** The test URL pointing at `database` instead of the one it names. */
export function urlFor(database: string): string {
  const u = new URL(mysqlTestUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs one statement on the server with the test URL's credentials. */
export async function admin(sql: string): Promise<void> {
  const u = new URL(mysqlTestUrl());
  const c = await mysql.createConnection({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
  });
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
