import { checkKey } from '../limits';
import type { SqlContext } from './context';
import { date } from './values';

/** Ids remembered per process; past this the oldest half is forgotten (the database condition still coalesces). */
const maxRemembered = 200_000;

/**
 * Coalesced last-seen write. This process skips ids it wrote within the interval without asking
 * the database; otherwise `write(cutoff)` runs the dialect's UPDATE, which must only fire when the
 * stored time is at or before `cutoff`, and returns whether a row changed.
 *
 * @example
 * ```ts
 * const wrote = await coalescedLastSeen(ctx, id, at, (cutoff) => dialectUpdate(id, at, cutoff));
 * ```
 */
export async function coalescedLastSeen(
  ctx: SqlContext<unknown>,
  id: string,
  at: Date,
  write: (cutoff: Date) => Promise<boolean>,
): Promise<boolean> {
  checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  date('at', at);
  const t = at.getTime();
  const written = ctx.lastSeenWritten.get(id);
  if (written !== undefined && t - written < ctx.lastSeenIntervalMs && t >= written) return false;
  const wrote = await write(new Date(t - ctx.lastSeenIntervalMs));
  if (wrote) remember(ctx.lastSeenWritten, id, t);
  return wrote;
}

function remember(written: Map<string, number>, id: string, t: number): void {
  written.delete(id);
  if (written.size >= maxRemembered) {
    let n = maxRemembered / 2;
    for (const key of written.keys()) {
      written.delete(key);
      if (--n === 0) break;
    }
  }
  written.set(id, t);
}
