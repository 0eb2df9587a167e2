import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Certificates made with the openssl CLI for talking TLS to the mock. */
export interface TestPki {
  caPem: string;
  serverKeyPem: string;
  serverCertPem: string;
  clientKeyPem: string;
  clientCertPem: string;
  topic: string;
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'mdmkit-testkit-pki-'));
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    run(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      '/CN=mdmkit test CA',
      '-days',
      '2',
    );
    run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    run(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      '0x02',
      '-days',
      '2',
      '-extfile',
      'server.ext',
      '-out',
      'server.pem',
    );
    const uuid = randomUUID();
    const topic = `com.apple.mgmt.External.${uuid}`;
    run(
      'req',
      ...ec,
      '-keyout',
      'client.key',
      '-out',
      'client.csr',
      '-subj',
      `/UID=${topic}/CN=APSP:${uuid}`,
    );
    run(
      'x509',
      '-req',
      '-in',
      'client.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      '0x03',
      '-days',
      '2',
      '-out',
      'client.pem',
    );
    const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
    return {
      caPem: read('ca.pem'),
      serverKeyPem: read('server.key'),
      serverCertPem: read('server.pem'),
      clientKeyPem: read('client.key'),
      clientCertPem: read('client.pem'),
      topic,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
