import type { Clock } from '../src/index';

/** A clock whose sleeps return at once and are recorded, so retry waits are asserted, not awaited. */
export function fakeClock(start = Date.now()): Clock & { sleeps: number[]; advance(ms: number): void } {
  let t = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    advance(ms) {
      t += ms;
    },
    async sleep(ms) {
      sleeps.push(ms);
      t += ms;
    },
  };
}
