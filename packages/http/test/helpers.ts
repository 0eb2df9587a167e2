import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Peer, requirePeer } from '@mdmkit/test-support';

export const curl: Peer = { name: 'curl', probe: ['curl', '--version'] };
export const curlHttp2: Peer = {
  name: 'curl with HTTP/2',
  probe: ['sh', '-c', 'curl --version | grep -q HTTP2'],
};
export const openssl: Peer = { name: 'openssl', probe: ['openssl', 'version'] };

export interface CurlResult {
  status: number;
  version: string;
  body: string;
  /** curl's own complaints, for assertion messages. */
  stderr: string;
}

/** Runs curl and returns status, HTTP version and body; `args` go before the URL. */
export function runCurl(url: string, args: string[] = []): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const marker = '\n--curl-meta--';
    const child = spawn('curl', [
      '-sS',
      '-o',
      '-',
      '-w',
      `${marker}%{http_code} %{http_version}`,
      ...args,
      url,
    ]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', () => {
      const at = out.lastIndexOf(marker);
      if (at === -1) return reject(new Error(`curl printed nothing: ${err}`));
      const [status, version] = out.slice(at + marker.length).split(' ');
      resolve({ status: Number(status), version: version ?? '', body: out.slice(0, at), stderr: err });
    });
  });
}

export interface TestPki {
  dir: string;
  serverKey: string;
  serverCert: string;
  clientKeyPath: string;
  clientCertPath: string;
  clientCertPem: string;
  clientDer: Uint8Array;
  proxyKeyPath: string;
  proxyCertPath: string;
  caPem: string;
  cleanup(): void;
}

/** A CA, a server certificate for 127.0.0.1, a device client certificate and a proxy's own client certificate, made by openssl. */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'mdmkit-http-'));
  const o = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  o(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-subj',
    '/CN=mdmkit-http test CA',
    '-days',
    '2',
  );
  const issue = (name: string, subject: string, ext: string) => {
    o('req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    const ca = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2'];
    o('x509', '-req', '-in', `${name}.csr`, ...ca, '-out', `${name}.pem`, '-extfile', `${name}.ext`);
  };
  issue('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1');
  issue('device', '/CN=device-1', 'extendedKeyUsage=clientAuth');
  issue('proxy', '/CN=proxy', 'extendedKeyUsage=clientAuth');
  o('x509', '-in', 'device.pem', '-outform', 'DER', '-out', 'device.der');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    serverKey: read('server.key'),
    serverCert: read('server.pem'),
    clientKeyPath: join(dir, 'device.key'),
    clientCertPath: join(dir, 'device.pem'),
    clientCertPem: read('device.pem'),
    clientDer: new Uint8Array(readFileSync(join(dir, 'device.der'))),
    proxyKeyPath: join(dir, 'proxy.key'),
    proxyCertPath: join(dir, 'proxy.pem'),
    caPem: read('ca.pem'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Opens a raw TCP connection, for clients no library would imitate (slow, lying about lengths). */
export function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Collects what the server sends until it closes the connection; resolves with the text and the time taken. */
export function untilClosed(socket: Socket): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ text, ms: Date.now() - started }));
  });
}

/** Whether each peer runs here; a missing one prints a SKIPPED line (and fails under CI). */
export const have = {
  curl: requirePeer(curl, '@mdmkit/http tests against curl'),
  curlHttp2: requirePeer(curlHttp2, '@mdmkit/http tests against curl over HTTP/2'),
  openssl: requirePeer(openssl, '@mdmkit/http TLS and client-certificate tests'),
};
