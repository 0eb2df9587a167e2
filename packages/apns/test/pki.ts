import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway CA made with the openssl CLI, issuing the mock's server certificate and push certificates. */
export interface TestPki {
  caPem: string;
  serverKeyPem: string;
  serverCertPem: string;
  /** Issues a push-style client certificate; `days` may be negative for an expired one. */
  issuePush(topic?: string, days?: number): { keyPem: string; certPem: string; topic: string };
  dispose(): void;
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'mdmkit-apns-pki-'));
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
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
  let serial = 16;
  return {
    caPem: read('ca.pem'),
    serverKeyPem: read('server.key'),
    serverCertPem: read('server.pem'),
    issuePush(topic = `com.apple.mgmt.External.${randomUUID()}`, days = 2) {
      const n = serial++;
      run('req', ...ec, '-keyout', `c${n}.key`, '-out', `c${n}.csr`, '-subj', `/UID=${topic}/CN=APSP:${n}`);
      run(
        'x509',
        '-req',
        '-in',
        `c${n}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        String(n),
        '-days',
        String(days),
        '-out',
        `c${n}.pem`,
      );
      return { keyPem: read(`c${n}.key`), certPem: read(`c${n}.pem`), topic };
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
