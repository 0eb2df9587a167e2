// DEP cases where a database could differ from the in-memory store: fenced writes racing from two
// handles, byte-order paging of non-ASCII serials, values near the limits.
import { expect, it, type TestContext } from 'vitest';
import { type DepStore, isDepStore } from '../dep';
import type { DepConformanceContext } from './dep';

function both(ctx: DepConformanceContext, t: TestContext): [DepStore, DepStore] {
  if (!isDepStore(ctx.s) || !isDepStore(ctx.s2)) {
    if (ctx.required) throw new Error('this adapter does not implement DepStore');
    t.skip('this adapter does not implement DepStore yet');
    throw new Error('unreachable');
  }
  return [ctx.s, ctx.s2];
}

async function token(s: DepStore, name: string): Promise<void> {
  await s.putDepToken({
    name,
    sealedCredentials: Uint8Array.of(9),
    accessTokenExpiry: new Date('2031-01-01T00:00:00Z'),
    updatedAt: new Date(),
  });
}

/** Registers the race and edge cases in the current describe block. */
export function depRaceConformance(ctx: DepConformanceContext): void {
  it('orders fenced pages racing from two handles: the newest fence wins and its devices match its cursor', async (t) => {
    const [s, s2] = both(ctx, t);
    const name = `${ctx.prefix()}race`;
    await token(s, name);
    const page = (fence: number) => ({
      tokenName: name,
      fence,
      cursor: `c${fence}`,
      phase: 'sync' as const,
      devices: [{ serialNumber: 'A', opType: 'modified' as const, model: `m${fence}` }],
    });
    for (let i = 1; i <= 10; i++) {
      // the newer writer and a stale one (lower fence) at the same moment, on different handles
      const out = await Promise.allSettled([s.applyDepPage(page(2 * i)), s2.applyDepPage(page(2 * i - 1))]);
      expect(out[0].status).toBe('fulfilled');
      if (out[1].status === 'rejected') expect(out[1].reason).toMatchObject({ code: 'FENCED' });
      const cursor = await s2.getDepCursor(name);
      expect(cursor?.fence).toBe(2 * i);
      expect(cursor?.cursor).toBe(`c${2 * i}`);
      // devices and cursor are one write: the device is the one the cursor's page carried
      expect((await s.getDepDevice(name, 'A'))?.model).toBe(`m${2 * i}`);
    }
    await expect(s2.resetDepCursor(name, 19)).rejects.toMatchObject({ code: 'FENCED' });
  });

  it('pages non-ASCII serials in code-point order and keeps unicode and large values exactly', async (t) => {
    const [s, s2] = both(ctx, t);
    const name = `${ctx.prefix()}uni-ü`;
    await token(s, name);
    const serials = ['Z9', 'a1', 'é2', 'ß3', '中4', 'Ω5', '09', 'A0', 'z_', 'Ab'];
    const raw = JSON.stringify({ serial_number: 'x', note: '🙂 ünïcødé '.repeat(4000) });
    await s.applyDepPage({
      tokenName: name,
      fence: 1,
      cursor: 'ç',
      phase: 'fetch',
      devices: serials.map((serialNumber) => ({
        serialNumber,
        opType: 'added' as const,
        description: `Mac «${serialNumber}» 🙂`,
        raw,
      })),
    });
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const p = await s2.listDepDevices(name, { limit: 3, ...(after !== undefined && { after }) });
      seen.push(...p.items.map((d) => d.serialNumber));
      if (!p.next) break;
      after = p.next;
    }
    expect(seen).toEqual([...serials].sort());
    const d = await s2.getDepDevice(name, '中4');
    expect(d?.description).toBe('Mac «中4» 🙂');
    expect(d?.raw).toBe(raw);
    expect((await s2.getDepCursor(name))?.cursor).toBe('ç');
    expect((await s2.listDepTokens()).some((x) => x.name === name)).toBe(true);
  });
}
