import { spawnSync } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Certificate,
  createSelfSignedCa,
  exportPrivateKey,
  generateKeyPair,
  issueCertificate,
} from '@mdmkit/crypto';

/** A root, an intermediate, a profile-signing leaf under it, and a device identity. */
export interface ProfilePki {
  root: Certificate;
  intermediate: Certificate;
  signer: Certificate;
  signerKey: KeyObject;
  device: Certificate;
  deviceKey: KeyObject;
  /** A second, unrelated root. */
  otherRoot: Certificate;
}

export async function makeProfilePki(): Promise<ProfilePki> {
  const [rootKp, interKp, signerKp, deviceKp, otherKp] = await Promise.all([
    generateKeyPair({ type: 'ec', curve: 'P-256' }),
    generateKeyPair({ type: 'ec', curve: 'P-256' }),
    generateKeyPair({ type: 'rsa', bits: 2048 }),
    generateKeyPair({ type: 'rsa', bits: 2048 }),
    generateKeyPair({ type: 'ec', curve: 'P-256' }),
  ]);
  const root = await createSelfSignedCa({
    subject: 'CN=Profiles Test Root,O=mdmkit',
    key: rootKp,
    pathLength: 1,
  });
  const other = await createSelfSignedCa({ subject: 'CN=Other Root,O=mdmkit', key: otherKp });
  const intermediate = await issueCertificate({
    subject: 'CN=Profiles Test Intermediate,O=mdmkit',
    publicKey: interKp.publicKey,
    issuer: root.certificate,
    issuerKey: root.privateKey,
    isCA: true,
    pathLength: 0,
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  const signer = await issueCertificate({
    subject: 'CN=Profile Signer,O=mdmkit',
    publicKey: signerKp.publicKey,
    issuer: intermediate,
    issuerKey: interKp.privateKey,
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['emailProtection', 'codeSigning'],
  });
  const device = await issueCertificate({
    subject: 'CN=Device Identity,O=mdmkit',
    publicKey: deviceKp.publicKey,
    issuer: root.certificate,
    issuerKey: root.privateKey,
    keyUsage: ['digitalSignature', 'keyEncipherment'],
  });
  return {
    root: root.certificate,
    intermediate,
    signer,
    signerKey: signerKp.privateKey,
    device,
    deviceKey: deviceKp.privateKey,
    otherRoot: other.certificate,
  };
}

/** A temporary folder for files handed to external programs. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'mdmkit-profiles-'));
  path(name: string): string {
    return join(this.dir, name);
  }
  write(name: string, data: string | Uint8Array): string {
    const p = this.path(name);
    writeFileSync(p, data);
    return p;
  }
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function pkiFiles(s: Scratch, pki: ProfilePki): void {
  s.write('root.pem', pki.root.pem);
  s.write('intermediate.pem', pki.intermediate.pem);
  s.write('signer.pem', pki.signer.pem);
  s.write('signer.key', exportPrivateKey(pki.signerKey, 'pkcs8-pem'));
  s.write('device.pem', pki.device.pem);
  s.write('device.key', exportPrivateKey(pki.deviceKey, 'pkcs8-pem'));
}

/** Runs a program with optional stdin; returns its exit status and output (stdout as bytes). */
export function run(cmd: string, args: string[], input?: Uint8Array | string) {
  const r = spawnSync(cmd, args, { input, timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout as Buffer, stderr: String(r.stderr) };
}

/** Loads a property list with python3's plistlib and prints it as JSON (dates and data as strings). */
export function plistlibJson(path: string): unknown {
  const script = [
    'import json, plistlib, sys, datetime',
    'def conv(o):',
    '    if isinstance(o, (bytes, bytearray)): return "data:" + o.hex()',
    '    if isinstance(o, datetime.datetime): return "date:" + o.strftime("%Y-%m-%dT%H:%M:%SZ")',
    '    raise TypeError(type(o))',
    'with open(sys.argv[1], "rb") as f: v = plistlib.load(f)',
    'print(json.dumps(v, default=conv))',
  ].join('\n');
  const r = run('python3', ['-c', script, path]);
  if (r.status !== 0) throw new Error(`plistlib failed: ${r.stderr}`);
  return JSON.parse(r.stdout.toString('utf8'));
}
