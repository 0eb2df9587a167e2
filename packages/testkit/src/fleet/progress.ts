import type { Fleet } from './fleet';

/** Where progress goes: a stream such as `process.stderr`. */
export interface ProgressStream {
  write(text: string): unknown;
  /** On a terminal one line is redrawn in place; elsewhere (CI logs) a line is appended now and then. */
  isTTY?: boolean;
}

/**
 * Shows a fleet's progress on a stream: redrawn 4 times a second on a terminal, one line every
 * 5 seconds otherwise, so CI logs stay short. Returns a function that prints the last line and stops.
 *
 * @example
 * ```ts
 * const stop = showProgress(fleet, process.stderr);
 * await fleet.checkIns({ rate: 100, durationMs: 5000 });
 * stop();
 * ```
 */
export function showProgress(fleet: Fleet, stream: ProgressStream, label = () => ''): () => void {
  const tty = stream.isTTY === true;
  const started = performance.now();
  const line = () => {
    const s = fleet.stats;
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const ops = (['enroll', 'idle', 'roundTrip'] as const)
      .filter((op) => s.ok(op) + s.errorsOf(op) > 0)
      .map((op) => `${op} ${s.ok(op)}${s.errorsOf(op) ? ` (${s.errorsOf(op)} failed)` : ''}`);
    return `[${secs}s] ${label()}devices ${fleet.devices.length} · ${ops.join(' · ') || 'starting'} · commands ${s.commands.handled}`;
  };
  const timer = setInterval(
    () => {
      stream.write(tty ? `\r\x1b[2K${line()}` : `${line()}\n`);
    },
    tty ? 250 : 5000,
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    stream.write(tty ? `\r\x1b[2K${line()}\n` : `${line()}\n`);
  };
}
