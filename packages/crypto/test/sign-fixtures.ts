import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  type Certificate,
  createSelfSignedCa,
  generateKeyPair,
  issueCertificate,
  type KeySpec,
} from '../src/index';

/** A CA and a leaf issued by it, both made by our own code. */
export interface TestPki {
  ca: Certificate;
  caKey: KeyObject;
  leaf: Certificate;
  leafKey: KeyObject;
}

export async function makePki(
  leafSpec: KeySpec = { type: 'rsa' },
  eku: string[] = ['clientAuth'],
): Promise<TestPki> {
  const { certificate: ca, privateKey: caKey } = await createSelfSignedCa({
    subject: 'CN=Test CA,O=mdmkit tests',
  });
  const kp = await generateKeyPair(leafSpec);
  const leaf = await issueCertificate({
    subject: { CN: 'device-0001', O: 'mdmkit tests' },
    publicKey: kp.publicKey,
    issuer: ca,
    issuerKey: caKey,
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extendedKeyUsage: eku,
  });
  return { ca, caKey, leaf, leafKey: kp.privateKey };
}

/** A scratch directory removed by `dispose()`. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'mdmkit-crypto-'));
  path(name: string): string {
    return join(this.dir, name);
  }
  write(name: string, data: string | Uint8Array): string {
    const p = this.path(name);
    writeFileSync(p, data);
    return p;
  }
  read(name: string): Buffer {
    return readFileSync(this.path(name));
  }
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs the openssl CLI; returns status, stdout and stderr as text. */
export function runOpenssl(
  args: string[],
  input?: Uint8Array,
): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { input, timeout: 30_000 });
  return { status: r.status ?? -1, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? '' };
}
