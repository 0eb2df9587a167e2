import { postgresTestUrl, requirePeer } from '@mdmkit/test-support';

/**
 * Whether the PostgreSQL server in MDMKIT_TEST_POSTGRES_URL answers (a TCP connect to its host and
 * port); prints a SKIPPED line otherwise, and throws under CI.
 */
export function postgresAvailable(): boolean {
  const u = new URL(postgresTestUrl());
  const host = u.hostname || '127.0.0.1';
  const port = u.port || '5432';
  const probe = `require('net').connect(${Number(port)}, ${JSON.stringify(host)}).on('connect', () => process.exit(0)).on('error', () => process.exit(1)).setTimeout(3000, () => process.exit(1))`;
  return requirePeer(
    { name: `PostgreSQL at ${host}:${port}`, probe: ['node', '-e', probe] },
    'PostgreSQL adapter tests',
  );
}
