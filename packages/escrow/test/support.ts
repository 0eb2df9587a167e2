import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStaticKeyProvider, type KeyProvider } from '@mdmkit/crypto';
import { MemoryStorage } from '@mdmkit/storage';
import { requirePeer } from '@mdmkit/test-support';
import { createEscrowKeyring, createSecretVault, type EscrowLogger, type SecretVault } from '../src/index';

export const opensslOk = (what: string): boolean =>
  requirePeer({ name: 'openssl', probe: ['openssl', 'version'] }, what);
export const pythonOk = (what: string): boolean =>
  requirePeer({ name: 'python3', probe: ['python3', '-c', 'import hashlib'] }, what);

/** A temporary directory for files handed to command-line peers. */
export function tempDir(): {
  path: (name: string) => string;
  write: (name: string, data: Uint8Array | string) => string;
  remove: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'mdmkit-escrow-'));
  return {
    path: (name) => join(dir, name),
    write: (name, data) => {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs openssl and returns its stdout. */
export function openssl(args: string[]): Uint8Array {
  return new Uint8Array(execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A logger that keeps every line, to check that no secret reaches it. */
export function capturingLogger(): EscrowLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string, f?: object) => lines.push(`${m} ${JSON.stringify(f ?? {})}`);
  return { lines, info: push, warn: push };
}

export function provider(fill: number, id = `static-${fill}`): KeyProvider {
  return createStaticKeyProvider(new Uint8Array(32).fill(fill), { id });
}

/** In-memory storage, a vault and a keyring over it, with a capturing logger. */
export function setup(keyProvider: KeyProvider = provider(7)) {
  const storage = new MemoryStorage();
  const logger = capturingLogger();
  const vault: SecretVault = createSecretVault({ secrets: storage, audit: storage, keyProvider, logger });
  const keyring = createEscrowKeyring({ secrets: storage, keyProvider, logger });
  return { storage, logger, vault, keyring, keyProvider };
}

/** Every sealed byte and event the storage holds, as one string (what a dump would contain). */
export async function dumpOf(storage: MemoryStorage): Promise<string> {
  const rows = await storage.listSecrets({ limit: 1000 });
  const events = await storage.listAuditEvents({ limit: 1000 });
  return [
    ...rows.items.map((r) => `${r.owner} ${r.kind} ${Buffer.from(r.sealed).toString('latin1')}`),
    ...events.items.map((e) => JSON.stringify(e)),
  ].join('\n');
}
