import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';

/** A private network namespace with only loopback, for peers that listen on every interface. */
export interface Netns {
  name: string;
  /**
   * Starts a long-running process inside the namespace. Its output goes to `logFile` (or nowhere): a pipe
   * nobody reads while the caller blocks in a synchronous run would fill up and stall the process.
   */
  spawn(cmd: string, args: string[], opts?: { cwd?: string; logFile?: string }): ChildProcess;
  /** Runs a command inside the namespace to completion. */
  run(
    cmd: string,
    args: string[],
    opts?: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
  ): {
    status: number | null;
    stdout: string;
    stderr: string;
  };
  /** Stops what was started in it and deletes it. */
  destroy(): void;
}

/** Creates `mdmkit-scep-<random>`; returns a reason string when namespaces are not available here. */
export function createNetns(): Netns | string {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  const name = `mdmkit-scep-${randomBytes(4).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (add.status !== 0) return `ip netns add failed: ${(add.stderr || String(add.error)).trim()}`;
  const up = spawnSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (up.status !== 0) {
    spawnSync('ip', ['netns', 'delete', name]);
    return `cannot bring up loopback in the namespace: ${up.stderr.trim()}`;
  }
  // Nothing but loopback: refuse to go on if the namespace somehow has another interface.
  const links = spawnSync('ip', ['netns', 'exec', name, 'ip', '-o', 'link'], { encoding: 'utf8' });
  const ifaces = links.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.split(':')[1]?.trim());
  if (ifaces.some((i) => i !== 'lo')) {
    spawnSync('ip', ['netns', 'delete', name]);
    return `namespace has interfaces besides lo: ${ifaces.join(', ')}`;
  }
  const children: ChildProcess[] = [];
  return {
    name,
    spawn(cmd, args, opts = {}) {
      const fd = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
      const child = spawn('ip', ['netns', 'exec', name, cmd, ...args], {
        cwd: opts.cwd,
        stdio: ['ignore', fd, fd],
      });
      if (typeof fd === 'number') closeSync(fd);
      children.push(child);
      return child;
    },
    run(cmd, args, opts = {}) {
      const r = spawnSync('ip', ['netns', 'exec', name, cmd, ...args], {
        cwd: opts.cwd,
        encoding: 'utf8',
        timeout: opts.timeoutMs ?? 60_000,
        env: opts.env ?? process.env,
      });
      return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    destroy() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      // Anything else still inside (a child the wrapper forked) goes too, by pid, before deletion.
      const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' })
        .stdout.split('\n')
        .map((s) => Number(s.trim()))
        .filter((n) => n > 0);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('ip', ['netns', 'delete', name]);
    },
  };
}

/** Resolves once `url` answers inside the namespace (polled with curl-free node fetch through `run`). */
export async function waitForPort(ns: Netns, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = ns.run('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { timeoutMs: 2000 });
    if (r.status === 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`nothing listens on port ${port} in ${ns.name}`);
}
