// Test-only helpers that create keys and certificates with the openssl CLI in a temporary folder.
import { spawnSync } from 'node:child_process';
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeer } from '@mdmkit/test-support';

export const LEGACY = ['-provider', 'legacy', '-provider', 'default'];

export function opensslAvailable(what: string): boolean {
  return requirePeer(
    { name: 'openssl', probe: ['openssl', 'list', '-providers', '-provider', 'legacy'] },
    what,
  );
}

export interface TestIdentity {
  keyPath: string;
  certPath: string;
  privateKey: KeyObject;
  certificate: { der: Uint8Array; publicKey: KeyObject; pem: string };
}

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'mdmkit-crypto-'));
  private n = 0;
  file(name: string, data?: Uint8Array | string): string {
    const p = join(this.path, name);
    if (data !== undefined) writeFileSync(p, data);
    return p;
  }
  unique(ext: string): string {
    return join(this.path, `f${this.n++}.${ext}`);
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Runs openssl; throws with its stderr when it fails. */
export function openssl(args: string[], input?: Uint8Array | string): Buffer {
  const r = spawnSync('openssl', args, { input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

export function opensslStatus(
  args: string[],
  input?: Uint8Array | string,
): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('openssl', args, { input, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** A self-signed RSA certificate with a subject key identifier. */
export function makeIdentity(
  dir: TempDir,
  name: string,
  bits: number | 'ec' = 2048,
  cn = name,
): TestIdentity {
  const keyPath = dir.file(`${name}.key`);
  const certPath = dir.file(`${name}.crt`);
  if (bits === 'ec')
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
  else openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${bits}`, '-out', keyPath]);
  openssl([
    'req',
    '-new',
    '-x509',
    '-key',
    keyPath,
    '-out',
    certPath,
    '-days',
    '30',
    '-subj',
    `/CN=${cn}/O=mdmkit test`,
    '-addext',
    'subjectKeyIdentifier=hash',
  ]);
  return loadIdentity(keyPath, certPath);
}

export function loadIdentity(keyPath: string, certPath: string): TestIdentity {
  const pem = readFileSync(certPath, 'utf8');
  const x = new X509Certificate(pem);
  return {
    keyPath,
    certPath,
    privateKey: createPrivateKey(readFileSync(keyPath)),
    certificate: { der: new Uint8Array(x.raw), publicKey: x.publicKey, pem },
  };
}

/** Signs `csr` with a CA's certificate and key through `openssl x509 -req`; `extra` adds options. */
export function opensslSignCsr(
  csr: string,
  ca: { certPath: string; keyPath: string },
  out: string,
  extra: string[] = [],
): void {
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certPath,
    '-CAkey',
    ca.keyPath,
    '-CAcreateserial',
    ...extra,
    '-out',
    out,
  ]);
}
