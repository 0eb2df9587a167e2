// Conformance cases for DepStore. Adapters gain DepStore one by one, so these run only where the
// handle implements it and are skipped with a note elsewhere.
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { type DepDeviceInput, type DepStore, isDepStore } from '../dep';
import { depRaceConformance } from './dep-races';

/** What the DEP cases need: two handles on one database and unique prefixes. */
export interface DepConformanceContext {
  readonly s: unknown;
  readonly s2: unknown;
  prefix(): string;
  /** Fail rather than skip when the handles have no DepStore. */
  readonly required?: boolean;
}

const NOT_YET = 'this adapter does not implement DepStore yet';

function stores(ctx: DepConformanceContext, t: TestContext): [DepStore, DepStore] {
  if (!isDepStore(ctx.s) || !isDepStore(ctx.s2)) {
    if (ctx.required) throw new Error(`${NOT_YET}, but the suite was told to require it`);
    t.skip(NOT_YET);
    throw new Error('unreachable');
  }
  return [ctx.s, ctx.s2];
}

const sealed = Uint8Array.of(1, 2, 3, 4);
const dev = (serialNumber: string, extra: Partial<DepDeviceInput> = {}): DepDeviceInput => ({
  serialNumber,
  opType: 'added',
  model: 'MacBook Air',
  os: 'OSX',
  profileStatus: 'empty',
  ...extra,
});

async function token(s: DepStore, name: string): Promise<void> {
  await s.putDepToken({
    name,
    sealedCredentials: sealed,
    accessTokenExpiry: new Date('2031-01-01T00:00:00Z'),
    updatedAt: new Date(),
  });
}

/** Registers the DepStore cases in the current describe block. */
export function depStoreConformance(ctx: DepConformanceContext): void {
  describe('DEP store', () => {
    it('keeps tokens with their sealed bytes and status, and deletes them with their data', async (t) => {
      const [s, s2] = stores(ctx, t);
      const name = `${ctx.prefix()}tok`;
      await token(s, name);
      const got = await s2.getDepToken(name);
      expect(got?.sealedCredentials).toEqual(sealed);
      expect(got?.accessTokenExpiry.toISOString()).toBe('2031-01-01T00:00:00.000Z');
      await s.updateDepTokenStatus(name, { termsNotSigned: true, defaultProfileUuid: 'P1' });
      expect(await s2.getDepToken(name)).toMatchObject({ termsNotSigned: true, defaultProfileUuid: 'P1' });
      await s.updateDepTokenStatus(name, { termsNotSigned: undefined });
      expect((await s2.getDepToken(name))?.termsNotSigned).toBeFalsy();
      expect((await s.listDepTokens()).some((x) => x.name === name)).toBe(true);
      await s.applyDepPage({ tokenName: name, fence: 1, cursor: 'c1', phase: 'fetch', devices: [dev('A')] });
      expect(await s.deleteDepToken(name)).toBe(true);
      expect(await s2.getDepToken(name)).toBeUndefined();
      expect(await s.deleteDepToken(name)).toBe(false);
      await expect(s.getDepDevice(name, 'A')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('stores a page and its cursor together and reports added, modified and deleted as storage saw them', async (t) => {
      const [s, s2] = stores(ctx, t);
      const name = `${ctx.prefix()}tok`;
      await token(s, name);
      expect(await s.getDepCursor(name)).toBeUndefined();
      const r1 = await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c1',
        phase: 'fetch',
        devices: [dev('A'), dev('B')],
      });
      expect(r1).toEqual({ added: ['A', 'B'], modified: [], deleted: [] });
      expect(await s2.getDepCursor(name)).toMatchObject({ cursor: 'c1', phase: 'fetch', fence: 1 });
      const r2 = await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c2',
        phase: 'sync',
        devices: [
          dev('A', { opType: 'modified', color: 'SILVER' }),
          dev('B', { opType: 'modified' }),
          dev('B', { opType: 'deleted' }),
          dev('C', { opType: 'deleted' }),
        ],
      });
      expect(r2).toEqual({ added: [], modified: ['A'], deleted: ['B'] });
      expect(await s2.getDepDevice(name, 'A')).toMatchObject({
        color: 'SILVER',
        deleted: false,
        enrolled: false,
      });
      expect((await s2.getDepDevice(name, 'B'))?.deleted).toBe(true);
      expect((await s2.listDepDevices(name)).items.map((d) => d.serialNumber)).toEqual(['A']);
      expect(
        (await s2.listDepDevices(name, { includeDeleted: true })).items.map((d) => d.serialNumber),
      ).toEqual(['A', 'B', 'C']);
      const back = await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c3',
        phase: 'sync',
        devices: [dev('B')],
      });
      expect(back.added).toEqual(['B']);
    });

    it('resolves a device reported more than once by the latest op_date, as Apple asks', async (t) => {
      const [s, s2] = stores(ctx, t);
      const name = `${ctx.prefix()}opd`;
      await token(s, name);
      const at = (m: number) => new Date(Date.UTC(2030, 0, 1, 0, m));
      await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c1',
        phase: 'fetch',
        devices: [dev('A'), dev('B')],
      });
      // In one page, out of order: A deleted at :02, then a stale "added" of :01.
      await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c2',
        phase: 'sync',
        devices: [
          dev('A', { opType: 'deleted', opDate: at(2) }),
          dev('A', { opType: 'added', opDate: at(1) }),
          dev('B', { opType: 'modified', opDate: at(5), model: 'MacBook Pro' }),
        ],
      });
      // On a later page, a stale restatement of B from :03.
      const r = await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c3',
        phase: 'sync',
        devices: [dev('B', { opType: 'modified', opDate: at(3), model: 'Mac mini' })],
      });
      expect(r).toEqual({ added: [], modified: [], deleted: [] });
      expect((await s2.getDepDevice(name, 'A'))?.deleted).toBe(true);
      expect(await s2.getDepDevice(name, 'B')).toMatchObject({ model: 'MacBook Pro', opDate: at(5) });
      expect((await s2.getDepCursor(name))?.cursor).toBe('c3');
      // A newer report still applies.
      await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c4',
        phase: 'sync',
        devices: [dev('A', { opType: 'added', opDate: at(9) })],
      });
      expect((await s2.getDepDevice(name, 'A'))?.deleted).toBe(false);
    });

    it('refuses a page with an older fence (FENCED) and leaves cursor and devices untouched', async (t) => {
      const [s, s2] = stores(ctx, t);
      const name = `${ctx.prefix()}tok`;
      await token(s, name);
      await s.applyDepPage({ tokenName: name, fence: 5, cursor: 'new', phase: 'sync', devices: [dev('A')] });
      await expect(
        s2.applyDepPage({ tokenName: name, fence: 4, cursor: 'old', phase: 'sync', devices: [dev('Z')] }),
      ).rejects.toMatchObject({
        code: 'FENCED',
      });
      await expect(s2.resetDepCursor(name, 4)).rejects.toMatchObject({ code: 'FENCED' });
      expect((await s.getDepCursor(name))?.cursor).toBe('new');
      expect(await s.getDepDevice(name, 'Z')).toBeUndefined();
      await s.resetDepCursor(name, 6);
      expect(await s.getDepCursor(name)).toBeUndefined();
    });

    it('stores a page whole or not at all when one device is invalid', async (t) => {
      const [s] = stores(ctx, t);
      const name = `${ctx.prefix()}tok`;
      await token(s, name);
      await s.applyDepPage({ tokenName: name, fence: 1, cursor: 'c1', phase: 'fetch', devices: [dev('A')] });
      const bad = [dev('B'), { ...dev('C'), opType: 'exploded' as 'added' }];
      await expect(
        s.applyDepPage({ tokenName: name, fence: 1, cursor: 'c2', phase: 'fetch', devices: bad }),
      ).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      expect(await s.getDepDevice(name, 'B')).toBeUndefined();
      expect((await s.getDepCursor(name))?.cursor).toBe('c1');
    });

    it('stores a device with U+0000 in its strings, each one replaced by U+FFFD, and moves the cursor on', async (t) => {
      const [s, s2] = stores(ctx, t);
      const name = `${ctx.prefix()}tok`;
      await token(s, name);
      const nul = '\u0000';
      const raw = JSON.stringify({ serial_number: `N${nul}1`, model: `Mac${nul}` });
      const withNul = dev(`N${nul}1`, {
        model: `Mac${nul}Book${nul}`,
        description: nul,
        color: `c${nul}`,
        os: `O${nul}S`,
        deviceFamily: `F${nul}`,
        assetTag: `T${nul}`,
        profileStatus: `e${nul}`,
        profileUuid: `P${nul}`,
        deviceAssignedBy: `a${nul}@example.com`,
        raw: `${raw}${nul}`,
      });
      const r = await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c1',
        phase: 'fetch',
        devices: [dev('M'), withNul],
      });
      const rep = '\uFFFD';
      expect(r.added).toEqual(['M', `N${rep}1`]);
      expect((await s2.getDepCursor(name))?.cursor).toBe('c1');
      const got = await s2.getDepDevice(name, `N${rep}1`);
      expect(got).toMatchObject({
        serialNumber: `N${rep}1`,
        model: `Mac${rep}Book${rep}`,
        description: rep,
        color: `c${rep}`,
        os: `O${rep}S`,
        deviceFamily: `F${rep}`,
        assetTag: `T${rep}`,
        profileStatus: `e${rep}`,
        profileUuid: `P${rep}`,
        deviceAssignedBy: `a${rep}@example.com`,
        raw: `${raw}${rep}`,
      });
      // The JSON text escapes U+0000, so the device as sent survives in raw.
      expect(JSON.parse(got!.raw!.slice(0, -1))).toEqual({ serial_number: `N${nul}1`, model: `Mac${nul}` });
      // The same device again is the same record, not a second one.
      const again = await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c2',
        phase: 'sync',
        devices: [{ ...withNul, opType: 'modified' }],
      });
      expect(again).toEqual({ added: [], modified: [], deleted: [] });
      expect((await s2.listDepDevices(name)).items.map((d) => d.serialNumber)).toEqual(['M', `N${rep}1`]);
    });

    it('stores lone UTF-16 surrogates as U+FFFD and 4-byte characters as sent, the same on every store', async (t) => {
      const [s, s2] = stores(ctx, t);
      const name = `${ctx.prefix()}tok`;
      await token(s, name);
      const lone = '\uD800';
      const emoji = '\u{1F34E}';
      const r = await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c1',
        phase: 'fetch',
        devices: [
          dev(`L${lone}1`, { model: `Mac${lone}`, description: `x\uDFFFy`, raw: `{"a":"${lone}"}` }),
          dev(`E${emoji}1`, { model: `Mac ${emoji}`, assetTag: emoji.repeat(100) }),
        ],
      });
      const rep = '\uFFFD';
      expect([...r.added].sort()).toEqual([`E${emoji}1`, `L${rep}1`].sort());
      expect(await s2.getDepDevice(name, `L${rep}1`)).toMatchObject({
        serialNumber: `L${rep}1`,
        model: `Mac${rep}`,
        description: `x${rep}y`,
        raw: `{"a":"${rep}"}`,
      });
      expect(await s2.getDepDevice(name, `E${emoji}1`)).toMatchObject({
        model: `Mac ${emoji}`,
        assetTag: emoji.repeat(100),
      });
      // Listed again unchanged, neither device is reported as modified (what was stored is what is compared).
      const again = await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c2',
        phase: 'sync',
        devices: [
          dev(`L${lone}1`, {
            opType: 'modified',
            model: `Mac${lone}`,
            description: `x\uDFFFy`,
            raw: `{"a":"${lone}"}`,
          }),
          dev(`E${emoji}1`, { opType: 'modified', model: `Mac ${emoji}`, assetTag: emoji.repeat(100) }),
        ],
      });
      expect(again).toEqual({ added: [], modified: [], deleted: [] });
      expect((await s2.listDepDevices(name)).items).toHaveLength(2);
    });

    it('marks devices enrolled across tokens and filters pending ones', async (t) => {
      const [s, s2] = stores(ctx, t);
      const p = ctx.prefix();
      await token(s, `${p}one`);
      await token(s, `${p}two`);
      const serial = `${p}SER`;
      await s.applyDepPage({
        tokenName: `${p}one`,
        fence: 1,
        cursor: 'c',
        phase: 'fetch',
        devices: [dev(serial), dev(`${p}OTHER`)],
      });
      await s.applyDepPage({
        tokenName: `${p}two`,
        fence: 1,
        cursor: 'c',
        phase: 'fetch',
        devices: [dev(serial)],
      });
      expect(await s2.markDepDeviceEnrolled(serial, new Date('2030-01-01T00:00:00Z'))).toBe(2);
      expect(await s2.markDepDeviceEnrolled(serial)).toBe(0);
      expect(await s.getDepDevice(`${p}one`, serial)).toMatchObject({
        enrolled: true,
        enrolledAt: new Date('2030-01-01T00:00:00Z'),
      });
      expect((await s.listDepDevices(`${p}one`, { pending: true })).items.map((d) => d.serialNumber)).toEqual(
        [`${p}OTHER`],
      );
      // a later modification keeps the enrolled flag
      await s.applyDepPage({
        tokenName: `${p}one`,
        fence: 1,
        cursor: 'd',
        phase: 'sync',
        devices: [dev(serial, { opType: 'modified', color: 'RED' })],
      });
      expect((await s.getDepDevice(`${p}one`, serial))?.enrolled).toBe(true);
    });

    it('pages devices in serial order', async (t) => {
      const [s] = stores(ctx, t);
      const name = `${ctx.prefix()}tok`;
      await token(s, name);
      const serials = Array.from({ length: 25 }, (_, i) => `S${String(i).padStart(3, '0')}`);
      await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c',
        phase: 'fetch',
        devices: [...serials].reverse().map((x) => dev(x)),
      });
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await s.listDepDevices(name, { limit: 10, ...(after && { after }) });
        seen.push(...page.items.map((d) => d.serialNumber));
        if (!page.next) break;
        after = page.next;
      }
      expect(seen).toEqual(serials);
    });

    it('lists devices awaiting a profile until an assignment is recorded', async (t) => {
      const [s, s2] = stores(ctx, t);
      const name = `${ctx.prefix()}tok`;
      await token(s, name);
      await s.applyDepPage({
        tokenName: name,
        fence: 1,
        cursor: 'c',
        phase: 'fetch',
        devices: [
          dev('A'),
          dev('B', { profileStatus: 'assigned', profileUuid: 'X' }),
          dev('C', { profileStatus: 'removed' }),
          dev('D', { opType: 'deleted' }),
        ],
      });
      expect((await s.listDepDevicesAwaitingProfile(name)).map((d) => d.serialNumber)).toEqual(['A', 'C']);
      await s2.recordDepAssignment(
        {
          tokenName: name,
          serialNumber: 'A',
          profileUuid: 'P',
          status: 'SUCCESS',
          assignedAt: new Date('2030-01-01T00:00:00Z'),
        },
        1,
      );
      expect(await s.getDepAssignment(name, 'A')).toMatchObject({ profileUuid: 'P', status: 'SUCCESS' });
      expect((await s.listDepDevicesAwaitingProfile(name)).map((d) => d.serialNumber)).toEqual(['C']);
    });

    it('fences assignments: a writer whose lease was taken over cannot record one', async (t) => {
      const [s, s2] = stores(ctx, t);
      const name = `${ctx.prefix()}tok`;
      await token(s, name);
      await s.applyDepPage({ tokenName: name, fence: 1, cursor: 'c', phase: 'fetch', devices: [dev('A')] });
      const record = {
        tokenName: name,
        serialNumber: 'A',
        profileUuid: 'P2',
        status: 'SUCCESS',
        assignedAt: new Date('2030-01-02T00:00:00Z'),
      };
      // the replica holding fence 2 writes; the one still holding fence 1 is refused
      await s2.recordDepAssignment(record, 2);
      await expect(
        s.recordDepAssignment({ ...record, profileUuid: 'STALE', status: 'FAILED' }, 1),
      ).rejects.toMatchObject({ code: 'FENCED' });
      expect(await s.getDepAssignment(name, 'A')).toMatchObject({ profileUuid: 'P2', status: 'SUCCESS' });
      // and a page of the older holder is refused too: the assignment moved the fence on
      await expect(
        s.applyDepPage({ tokenName: name, fence: 1, cursor: 'old', phase: 'sync', devices: [] }),
      ).rejects.toMatchObject({ code: 'FENCED' });
      await expect(s.recordDepAssignment(record, -1)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    });

    it('refuses bad keys and oversized blobs with typed errors', async (t) => {
      const [s] = stores(ctx, t);
      const name = `${ctx.prefix()}tok`;
      await expect(
        s.putDepToken({
          name: '',
          sealedCredentials: sealed,
          accessTokenExpiry: new Date(),
          updatedAt: new Date(),
        }),
      ).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(
        s.applyDepPage({ tokenName: name, fence: 1, cursor: 'c', phase: 'fetch', devices: [] }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await token(s, name);
      await expect(
        s.applyDepPage({
          tokenName: name,
          fence: 1,
          cursor: 'c',
          phase: 'fetch',
          devices: [dev('A', { raw: 'x'.repeat(1_000_000) })],
        }),
      ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    });
    depRaceConformance(ctx);
  });
}

/**
 * Runs the DepStore cases against a store on its own (the in-memory one, or an adapter's DepStore
 * before it joins `runStorageConformance`).
 *
 * @example
 * ```ts
 * runDepStoreConformance('memory', async () => new MemoryDepStore());
 * ```
 */
export function runDepStoreConformance(name: string, open: () => Promise<DepStore>): void {
  describe(`DEP store conformance: ${name}`, () => {
    let s: DepStore | undefined;
    let counter = 0;
    const run = Math.random().toString(36).slice(2, 8);
    beforeAll(async () => {
      s = await open();
    });
    afterAll(() => {
      s = undefined;
    });
    depStoreConformance({
      get s() {
        return s;
      },
      get s2() {
        return s;
      },
      prefix: () => `dep${run}-${++counter}-`,
    });
  });
}
