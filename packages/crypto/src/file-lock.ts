import { randomBytes } from 'node:crypto';
import { constants as fsConstants, readlinkSync } from 'node:fs';
import { lstat, open, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CryptoError } from './errors';

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** Give up waiting for the lock after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** A lock older than this is taken to be left by a crashed process. Default 30 000 ms. */
  staleMs?: number;
}

interface LockOwner {
  pid: number;
  host: string;
  token: string;
  /** The pid namespace (Linux): containers on one host name may each have their own pid numbers. */
  ns?: string;
}

/** Where a pid means the same process as here: the host name and, on Linux, the pid namespace. */
const PID_NAMESPACE = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
})();

/** Tokens of the locks this process holds now. */
const heldTokens = new Set<string>();

const LOCK_MAX_BYTES = 4096;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.token === 'string') {
      return v as LockOwner;
    }
  } catch {
    // written only partly by a process that crashed, or still being written
  }
  return undefined;
}

/** Whether the lock whose content is `text` was left behind by a process that no longer holds it. */
async function isStale(lockPath: string, text: string, staleMs: number): Promise<boolean> {
  const owner = parseOwner(text);
  if (owner && owner.host === hostname() && (owner.ns === undefined || owner.ns === PID_NAMESPACE)) {
    // Our own pid on a lock this process does not hold: left by a crashed process whose pid we got
    // again (a restarted container's process often has the same pid).
    if (owner.pid === process.pid) return !heldTokens.has(owner.token);
    if (!isAlive(owner.pid)) return true;
  }
  // Age is the fallback for other hosts and pid namespaces, for a lock whose content was never fully
  // written, and for a pid reused by another process since the holder crashed: a critical section
  // lasts milliseconds, so a lock this old is held by nobody.
  try {
    return Date.now() - (await lstat(lockPath)).mtimeMs > staleMs;
  } catch {
    return false;
  }
}

/**
 * Removes a stale lock without ever removing a live one: the lock is first moved aside (atomic),
 * and if what was moved is not the lock judged stale, because its holder was replaced in between,
 * it is put back unless someone has taken the lock since.
 */
async function breakLock(lockPath: string, seen: string): Promise<void> {
  const aside = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockPath, aside);
  } catch {
    return;
  }
  try {
    const moved = await readFile(aside, 'utf8');
    if (moved !== seen) {
      const fh = await open(lockPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
      try {
        await fh.writeFile(moved);
      } finally {
        await fh.close();
      }
    }
  } catch {
    // the lock was taken again meanwhile; that holder wins
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/**
 * Runs `fn` while holding an exclusive lock on `path` shared by every process on the machine (and
 * on a shared file system that honours O_EXCL): a lock file `<path>.lock` created exclusively, holding
 * the owner's pid, host name, pid namespace and a random token. A lock left by a crashed process
 * (dead pid on this host and pid namespace, or older than `staleMs` whatever its pid) is broken.
 * Throws `CryptoError` `KEY_PROVIDER_FAILED` when the lock cannot be had within `timeoutMs`. @internal
 *
 * @example
 * ```ts
 * await withFileLock(keyPath, async () => {
 *   const fresh = await readFile(keyPath, 'utf8'); // re-read under the lock, then replace atomically
 * });
 * ```
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: FileLockOptions = {},
): Promise<T> {
  const lockPath = `${path}.lock`;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const staleMs = opts.staleMs ?? 30_000;
  const token = randomBytes(12).toString('hex');
  const mine = JSON.stringify({ pid: process.pid, host: hostname(), token, ns: PID_NAMESPACE });
  const giveUpAt = Date.now() + timeoutMs;
  let wait = 2;
  while (true) {
    try {
      const fh = await open(lockPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
      heldTokens.add(token);
      try {
        await fh.writeFile(mine);
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new CryptoError('KEY_PROVIDER_FAILED', `cannot lock ${path}`, { cause: e });
      }
    }
    // A lock that is there but cannot be read (a dangling symlink, another user's file) has no owner
    // to ask: only its age can free it.
    const held =
      (await readLock(lockPath)) ?? ((await lstat(lockPath).catch(() => undefined)) ? '' : undefined);
    if (held !== undefined && (await isStale(lockPath, held, staleMs))) {
      await breakLock(lockPath, held);
      continue;
    }
    if (Date.now() >= giveUpAt) {
      throw new CryptoError(
        'KEY_PROVIDER_FAILED',
        `${path} stayed locked by another process for ${timeoutMs} ms`,
      );
    }
    // Jittered, growing waits: the critical sections are milliseconds long.
    await sleep(wait + Math.floor(Math.random() * wait));
    wait = Math.min(wait * 2, 50);
  }
  try {
    return await fn();
  } finally {
    // Remove the lock only while it is still ours (it is never broken while its holder lives).
    if ((await readLock(lockPath)) === mine) await unlink(lockPath).catch(() => undefined);
    heldTokens.delete(token);
  }
}

async function readLock(lockPath: string): Promise<string | undefined> {
  try {
    const fh = await open(lockPath, 'r');
    try {
      const buf = Buffer.alloc(LOCK_MAX_BYTES);
      const { bytesRead } = await fh.read(buf, 0, LOCK_MAX_BYTES, 0);
      return buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}
