import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/index';
import { runStorageConformance } from '../src/conformance/index';

runStorageConformance('memory', async () => {
  const root = new MemoryStorage();
  return {
    open: async (o) => {
      const h = root.openHandle(o ?? {});
      if (o?.migrate !== false) await h.migrate();
      return h;
    },
  };
});

describe('memory sender nonces under a flood', () => {
  it('inserts in amortised constant time and refuses quickly once full', async () => {
    const s = new MemoryStorage({ limits: { maxSenderNonces: 50_000 } });
    const until = new Date(Date.now() + 3_600_000);
    const t0 = performance.now();
    for (let i = 0; i < 50_000; i++) await s.recordSenderNonce(`n${i}`, until);
    const fill = performance.now() - t0;
    const t1 = performance.now();
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      await s.recordSenderNonce(`m${i}`, until).catch(() => refused++);
    }
    const flood = performance.now() - t1;
    expect(refused).toBe(20_000);
    expect(await s.recordSenderNonce('n1', until)).toBe(false);
    // A rescan of the whole map per insert (the old behaviour) takes over 30 s here; this takes well
    // under a second on a quiet machine, and the bound leaves room for a busy one.
    expect(fill).toBeLessThan(8_000);
    expect(flood).toBeLessThan(8_000);
  });
});
