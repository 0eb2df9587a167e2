import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { withFileLock } from '../src/file-lock';
import { createLocalKeyProvider, openSecret, sealedKeyId, sealSecret } from '../src/index';
import { Scratch } from './sign-fixtures';

const worker = join(dirname(fileURLToPath(import.meta.url)), 'support', 'rotation-worker.ts');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=mdmkit-source', worker, ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('local key provider shared by several processes', () => {
  const scratch = new Scratch();
  afterAll(() => scratch.dispose());

  it('keeps every key when processes rotate and seal concurrently; a restart opens every secret', async () => {
    const keyPath = scratch.path('shared/master.key');
    const outDir = scratch.path('');
    const initial = await createLocalKeyProvider({ path: keyPath });
    const workers = 4;
    const rounds = 8;
    const runs = Array.from({ length: workers }, (_, i) => run([keyPath, outDir, `w${i}`, String(rounds)]));
    const deadline = Date.now() + 60_000;
    while (readdirSync(outDir).filter((f) => f.startsWith('ready-')).length < workers) {
      if (Date.now() > deadline) throw new Error('workers did not start');
      await sleep(10);
    }
    writeFileSync(join(outDir, 'go'), '');
    const results = await Promise.all(runs);
    for (const r of results) expect(r.stderr).toBe('');
    for (const r of results) expect(r.code).toBe(0);

    // The restart: a fresh provider reads the file once and must open every sealed secret.
    const restarted = await createLocalKeyProvider({ path: keyPath });
    const blobs = readdirSync(outDir).filter((f) => f.endsWith('.sealed'));
    expect(blobs).toHaveLength(workers * rounds * 2);
    const lost: string[] = [];
    for (const f of blobs) {
      const [owner, kind] = f.split('.') as [string, string];
      try {
        const plain = await openSecret(readFileSync(join(outDir, f)), { provider: restarted, owner, kind });
        expect(new TextDecoder().decode(plain)).toBe(`${kind} ${owner}`);
      } catch {
        lost.push(f);
      }
    }
    expect(lost).toEqual([]);
    expect(restarted.keyIds()).toHaveLength(1 + workers * rounds);
    expect(restarted.keyIds()).toContain(initial.currentKeyId);
  }, 120_000);

  it('reloads the key file when a secret names a key id this process has not seen', async () => {
    const keyPath = scratch.path('reload/master.key');
    const a = await createLocalKeyProvider({ path: keyPath });
    const b = await createLocalKeyProvider({ path: keyPath });
    await a.rotate();
    const sealed = await sealSecret(new TextEncoder().encode('bypass'), {
      provider: a,
      owner: 'UDID-9',
      kind: 'bypass-code',
    });
    expect(b.keyIds()).not.toContain(sealedKeyId(sealed).keyId);
    const plain = await openSecret(sealed, { provider: b, owner: 'UDID-9', kind: 'bypass-code' });
    expect(new TextDecoder().decode(plain)).toBe('bypass');
    expect(b.keyIds()).toContain(sealedKeyId(sealed).keyId);
    // b follows a's rotation for new secrets too, instead of sealing under a key a may retire.
    expect(b.currentKeyId).toBe(a.currentKeyId);
    // A key id that is in no version of the file still fails with the one uniform answer.
    const forged = Buffer.from(sealed);
    const idAt = forged.indexOf(Buffer.from(sealedKeyId(sealed).keyId));
    forged.write('0000000000000000', idAt, 'latin1');
    await expect(
      openSecret(forged, { provider: b, owner: 'UDID-9', kind: 'bypass-code' }),
    ).rejects.toMatchObject({
      code: 'SEALED_SECRET_INVALID',
    });
    expect(existsSync(`${keyPath}.lock`)).toBe(false);
  });

  it('breaks a lock left by a crashed process, and never leaves its own lock behind', async () => {
    const keyPath = scratch.path('stale/master.key');
    const p = await createLocalKeyProvider({ path: keyPath });
    // A process that held the lock and died without removing it.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const pid = Number(dead.stdout.toString());
    writeFileSync(`${keyPath}.lock`, JSON.stringify({ pid, host: hostname(), token: 'left-behind' }));
    const started = Date.now();
    const id = await p.rotate();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(p.currentKeyId).toBe(id);
    expect(existsSync(`${keyPath}.lock`)).toBe(false);
    expect(readdirSync(scratch.path('stale')).sort()).toEqual(['master.key']);
  });

  it('gives every provider started at once the same first key file', async () => {
    const keyPath = scratch.path('first/master.key');
    const providers = await Promise.all(
      Array.from({ length: 20 }, () => createLocalKeyProvider({ path: keyPath })),
    );
    expect(new Set(providers.map((p) => p.currentKeyId)).size).toBe(1);
    expect(readdirSync(scratch.path('first'))).toEqual(['master.key']);
  });
});

describe('the key file lock', () => {
  const scratch = new Scratch();
  afterAll(() => scratch.dispose());

  it('breaks a lock left by a crashed process whose pid this process got again', async () => {
    const keyPath = scratch.path('own-pid/master.key');
    const p = await createLocalKeyProvider({ path: keyPath });
    // A restarted container's process often has the pid of the one that crashed holding the lock.
    writeFileSync(
      `${keyPath}.lock`,
      JSON.stringify({ pid: process.pid, host: hostname(), token: 'crashed' }),
    );
    const started = Date.now();
    const id = await p.rotate();
    expect(p.currentKeyId).toBe(id);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(existsSync(`${keyPath}.lock`)).toBe(false);
  });

  it('breaks a lock older than the stale age even when its pid now belongs to a live process', async () => {
    const keyPath = scratch.path('reused-pid/master.key');
    const p = await createLocalKeyProvider({ path: keyPath });
    const lock = `${keyPath}.lock`;
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, host: hostname(), token: 'crashed' }));
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const started = Date.now();
    const id = await p.rotate();
    expect(p.currentKeyId).toBe(id);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('breaks an old lock that cannot be read, such as a dangling symlink', async () => {
    const keyPath = scratch.path('unreadable/master.key');
    const p = await createLocalKeyProvider({ path: keyPath });
    const lock = `${keyPath}.lock`;
    symlinkSync(scratch.path('unreadable/nowhere'), lock);
    const old = new Date(Date.now() - 60_000);
    lutimesSync(lock, old, old);
    const started = Date.now();
    const id = await p.rotate();
    expect(p.currentKeyId).toBe(id);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(readdirSync(scratch.path('unreadable'))).toEqual(['master.key']);
  });

  it.skipIf(!existsSync('/proc/self/ns/pid'))(
    'does not judge a lock from another pid namespace by a pid that means nothing here',
    async () => {
      const keyPath = scratch.path('other-ns/master.key');
      mkdirSync(dirname(keyPath), { recursive: true });
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
      // Held right now by a process in another container sharing this host name and volume.
      writeFileSync(
        `${keyPath}.lock`,
        JSON.stringify({ pid: Number(dead.stdout.toString()), host: hostname(), token: 't', ns: 'pid:[1]' }),
      );
      let ran = false;
      await expect(
        withFileLock(
          keyPath,
          async () => {
            ran = true;
          },
          { timeoutMs: 300 },
        ),
      ).rejects.toMatchObject({ code: 'KEY_PROVIDER_FAILED' });
      expect(ran).toBe(false);
    },
  );
});
