import { spawnSync } from 'node:child_process';

/** An external program a test talks to. */
export interface Peer {
  /** Short name used in the skip line, e.g. `openssl`. */
  name: string;
  /** Command and arguments that exit 0 when the peer is usable. */
  probe: [string, ...string[]];
}

const cache = new Map<string, boolean>();

/** Whether the peer's probe command runs and exits 0. Cached per process. */
export function peerAvailable(peer: Peer): boolean {
  const key = peer.probe.join(' ');
  let ok = cache.get(key);
  if (ok === undefined) {
    const [cmd, ...args] = peer.probe;
    const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    ok = r.status === 0;
    cache.set(key, ok);
  }
  return ok;
}

/**
 * Decides whether tests that need `peer` run. When the peer is missing, prints one visible line
 * saying what is skipped and why and returns false, so the caller can `describe.skipIf(!ok)`; under
 * `CI` a missing peer throws instead, because CI must exercise every interop test.
 */
export function requirePeer(peer: Peer, what: string): boolean {
  if (peerAvailable(peer)) return true;
  const line = `SKIPPED ${what}: ${peer.name} is not available (probe: ${peer.probe.join(' ')})`;
  if (process.env.CI) throw new Error(`${line}; CI requires it`);
  console.warn(line);
  return false;
}
