// Per-enrollment lanes shared by every handle in this process. A device talks to the server one
// request at a time, so serialising one enrollment's queue calls costs nothing, and it removes a
// race that the database alone cannot: responses from different connections reach this process in
// no guaranteed order, so a caller could otherwise see "command N finished" (from one connection)
// before "next is N" (from another) that the server produced earlier. Different enrollments never
// wait for each other.
const lanes = new Map<string, Promise<void>>();

/**
 * Runs `fn` after every earlier call with the same key has settled.
 *
 * @example
 * ```ts
 * const next = await inLane(`${url}\u0000${enrollmentId}`, () => pickNext(enrollmentId));
 * ```
 */
export async function inLane<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = lanes.get(key);
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous ? previous.then(() => done) : done;
  lanes.set(key, tail);
  try {
    if (previous) await previous;
    return await fn();
  } finally {
    release();
    if (lanes.get(key) === tail) lanes.delete(key);
  }
}
