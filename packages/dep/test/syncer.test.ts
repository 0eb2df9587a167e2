import { randomBytes } from 'node:crypto';
import { createStaticKeyProvider } from '@mdmkit/crypto';
import { MemoryDepStore, MemoryStorage } from '@mdmkit/storage';
import { type MockDep, startMockDep } from '@mdmkit/testkit/mock-dep';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectDepToken,
  DepClient,
  DepError,
  depLeaseName,
  type DepSyncEvent,
  DepSyncer,
  openDepToken,
} from '../src/index';
import { fakeClock } from './fake-clock';

const mocks: MockDep[] = [];
afterEach(async () => {
  for (const m of mocks.splice(0)) await m.close();
});

const keyProvider = createStaticKeyProvider(randomBytes(32));
const expiry = new Date('2031-01-01T00:00:00Z');

async function setup(opts: { devices?: number; tokens?: string[]; withDefault?: boolean } = {}) {
  const store = new MemoryDepStore();
  const leases = new MemoryStorage();
  await leases.migrate();
  const events: DepSyncEvent[] = [];
  const byToken = new Map<string, { mock: MockDep; profileUuid: string | undefined }>();
  for (const name of opts.tokens ?? ['main']) {
    const mock = await startMockDep({ devices: opts.devices ?? 0 });
    mocks.push(mock);
    let profileUuid: string | undefined;
    if (opts.withDefault) {
      const c = new DepClient({ token: mock.credentials, baseUrl: mock.url });
      profileUuid = (
        await c.defineProfile({ profile_name: `${name} default`, url: 'https://mdm.example.com/enroll' })
      ).profile_uuid;
      await c.close();
    }
    await connectDepToken(store, keyProvider, {
      name,
      token: { ...mock.credentials, accessTokenExpiry: expiry },
      baseUrl: mock.url,
      ...(profileUuid && { defaultProfileUuid: profileUuid }),
    });
    byToken.set(name, { mock, profileUuid });
  }
  const syncer = new DepSyncer({
    store,
    leases,
    keyProvider,
    pageLimit: 100,
    onEvent: (e) => events.push(e),
    clock: fakeClock(),
  });
  return { store, leases, events, byToken, syncer, mock: byToken.get((opts.tokens ?? ['main'])[0]!)!.mock };
}

describe('connectDepToken', () => {
  it('stores the credentials sealed (no secret in the stored bytes) and opens them again', async () => {
    const store = new MemoryDepStore();
    const token = {
      consumerKey: 'CK_x',
      consumerSecret: 'CS_secret_value',
      accessToken: 'AT_y',
      accessSecret: 'AS_secret_value',
      accessTokenExpiry: expiry,
    };
    const rec = await connectDepToken(store, keyProvider, { name: 'main', token });
    const stored = Buffer.from((await store.getDepToken('main'))!.sealedCredentials).toString('latin1');
    expect(stored).not.toContain('CS_secret_value');
    expect(stored).not.toContain('AS_secret_value');
    expect(await openDepToken(rec, keyProvider)).toEqual(token);
    // sealed to its name: the record of another token cannot borrow the blob
    await expect(openDepToken({ ...rec, name: 'other' }, keyProvider)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    });
    await expect(openDepToken(rec, createStaticKeyProvider(randomBytes(32)))).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    });
  });
});

describe('DepSyncer', () => {
  it('fetches every device page by page, stores them with the cursor, then syncs changes as events', async () => {
    const { store, events, syncer, mock } = await setup({ devices: 250 });
    const first = await syncer.syncToken('main');
    expect(first).toMatchObject({ ran: true, pages: 3, added: 250, modified: 0, deleted: 0 });
    expect((await store.getDepCursor('main'))?.phase).toBe('sync');
    expect((await store.listDepDevices('main', { limit: 1000 })).items).toHaveLength(250);
    expect(events.filter((e) => e.type === 'added')).toHaveLength(250);

    const [gone] = [...mock.inventory.devices.keys()];
    mock.addDevice('C02NEWDEVICE', { model: 'Mac mini' });
    mock.modifyDevice('C02NEWDEVICE', { color: 'SILVER' });
    mock.deleteDevice(gone!);
    events.length = 0;
    const second = await syncer.syncToken('main');
    expect(second).toMatchObject({ added: 1, modified: 0, deleted: 1 });
    expect(events).toEqual([
      { type: 'added', tokenName: 'main', serialNumber: 'C02NEWDEVICE' },
      { type: 'deleted', tokenName: 'main', serialNumber: gone },
    ]);
    expect(await store.getDepDevice('main', 'C02NEWDEVICE')).toMatchObject({
      model: 'Mac mini',
      color: 'SILVER',
      enrolled: false,
    });
    mock.modifyDevice('C02NEWDEVICE', { description: 'renamed' });
    expect((await syncer.syncToken('main')).modified).toBe(1);
    expect(mock.requests.filter((r) => r.path === '/devices/sync').length).toBeGreaterThan(0);
  });

  it('keeps devices "pending" until their first check-in', async () => {
    const { store, syncer, mock } = await setup({ devices: 3 });
    await syncer.syncToken('main');
    const [a] = [...mock.inventory.devices.keys()];
    expect((await store.listDepDevices('main', { pending: true })).items).toHaveLength(3);
    await store.markDepDeviceEnrolled(a!);
    expect(
      (await store.listDepDevices('main', { pending: true })).items.map((d) => d.serialNumber),
    ).not.toContain(a);
  });

  it('gives newly added devices the token default profile, per token, and records the outcome', async () => {
    const { store, syncer, byToken, events } = await setup({
      devices: 2,
      tokens: ['east', 'west'],
      withDefault: true,
    });
    const reports = await syncer.syncAll();
    expect(reports.map((r) => [r.tokenName, r.assigned])).toEqual([
      ['east', 2],
      ['west', 2],
    ]);
    for (const [name, { mock, profileUuid }] of byToken) {
      for (const d of mock.inventory.devices.values()) {
        expect(d.profile_uuid).toBe(profileUuid);
        expect(await store.getDepAssignment(name, d.serial_number)).toMatchObject({
          profileUuid,
          status: 'SUCCESS',
        });
      }
    }
    expect(events.filter((e) => e.type === 'assigned')).toHaveLength(4);
    // a device added later gets it at the next sync; already assigned ones are not sent again
    const east = byToken.get('east')!;
    east.mock.addDevice('LATE1');
    const before = east.mock.requests.filter((r) => r.path === '/profile/devices').length;
    expect((await syncer.syncToken('east')).assigned).toBe(1);
    expect(east.mock.inventory.devices.get('LATE1')?.profile_uuid).toBe(east.profileUuid);
    expect(east.mock.requests.filter((r) => r.path === '/profile/devices').length).toBe(before + 1);
  });

  it('starts over with a full fetch after an expired cursor', async () => {
    const { store, syncer, mock } = await setup({ devices: 5 });
    await syncer.syncToken('main');
    mock.expireCursors();
    mock.addDevice('AFTER');
    const r = await syncer.syncToken('main');
    expect(r.cursorReset).toBe(true);
    expect(await store.getDepDevice('main', 'AFTER')).toBeDefined();
    expect((await store.getDepCursor('main'))?.phase).toBe('sync');
  });

  it('stores nothing and keeps no cursor when the first page arrives truncated, then completes on the next run', async () => {
    const { store, syncer, mock } = await setup({ devices: 350 });
    // the first page arrives cut short, as if the connection died there
    mock.injectFault({ kind: 'truncate' }, { path: '/server/devices' });
    await expect(syncer.syncToken('main')).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
    expect(await store.getDepCursor('main')).toBeUndefined();
    expect((await store.listDepDevices('main')).items).toHaveLength(0);
    expect(mock.requests.filter((r) => r.path === '/server/devices')).toHaveLength(1);

    const r = await syncer.syncToken('main');
    expect(r.added).toBe(350);
    expect((await store.getDepToken('main'))?.lastError).toBeUndefined();
  });

  it('keeps pages already stored when a later page fails, and resumes from the stored cursor', async () => {
    const { store, syncer, mock } = await setup({ devices: 350 });
    const leases = new MemoryStorage();
    await leases.migrate();
    // First run: two pages succeed, then Apple answers an HTML page for the third.
    let calls = 0;
    const spy = new DepSyncer({
      store,
      leases,
      keyProvider,
      pageLimit: 100,
      clock: fakeClock(),
      onEvent: (e) => {
        if (e.type === 'added' && ++calls === 200)
          mock.injectFault({ kind: 'html', status: 502 }, { path: '/server/devices' });
      },
    });
    await expect(spy.syncToken('main')).rejects.toMatchObject({ code: 'HTTP_ERROR' });
    const cursor = await store.getDepCursor('main');
    expect(cursor?.phase).toBe('fetch');
    expect((await store.listDepDevices('main', { limit: 1000 })).items).toHaveLength(200);
    expect((await store.getDepToken('main'))?.lastError).toMatch(/HTTP_ERROR/);
    const r = await syncer.syncToken('main');
    expect(r).toMatchObject({ pages: 2, added: 150 });
    expect((await store.listDepDevices('main', { limit: 1000 })).items).toHaveLength(350);
  });

  it('skips a token whose lease another replica holds, and a fenced-out replica cannot write', async () => {
    const { store, leases, syncer } = await setup({ devices: 3 });
    const other = await leases.acquireLease(depLeaseName('main'), 'replica-b', 60_000);
    expect(other).toBeDefined();
    expect(await syncer.syncToken('main')).toMatchObject({ ran: false, pages: 0 });
    expect((await store.listDepDevices('main')).items).toHaveLength(0);
    await leases.releaseLease(other!);
    const r = await syncer.syncToken('main');
    expect(r.ran).toBe(true);
    // a replica presenting the old fence after a newer holder wrote is refused
    await expect(
      store.applyDepPage({
        tokenName: 'main',
        fence: other!.token,
        cursor: 'stale',
        phase: 'sync',
        devices: [],
      }),
    ).rejects.toMatchObject({
      code: 'FENCED',
    });
  });

  it('stops a replica whose lease expired mid-sync (LEASE_LOST), leaving the cursor at its last stored page', async () => {
    const { store, leases, mock } = await setup({ devices: 300 });
    const clockA = fakeClock();
    let pages = 0;
    const a = new DepSyncer({
      store,
      leases,
      keyProvider,
      holder: 'a',
      pageLimit: 100,
      leaseTtlMs: 10_000,
      clock: clockA,
      onEvent: () => {
        // replica a stalls for longer than its lease after its first page
        if (++pages === 100) clockA.advance(60_000);
      },
    });
    await expect(a.syncToken('main')).rejects.toMatchObject({ code: 'LEASE_LOST' });
    const cursor = await store.getDepCursor('main');
    expect(cursor).toMatchObject({ phase: 'fetch' });
    expect((await store.listDepDevices('main', { limit: 1000 })).items).toHaveLength(100);
    const b = new DepSyncer({
      store,
      leases,
      keyProvider,
      holder: 'b',
      pageLimit: 100,
      clock: fakeClock(clockA.now()),
    });
    expect(await b.syncToken('main')).toMatchObject({ ran: true, added: 200 });
    expect((await store.getDepCursor('main'))?.fence).toBeGreaterThan(cursor!.fence);
    // a fetched one page; b resumed from a's stored cursor and fetched the other two
    expect(mock.requests.filter((r) => r.path === '/server/devices')).toHaveLength(3);
  });

  it('lets only one of two racing replicas sync a token', async () => {
    const { store, leases, mock } = await setup({ devices: 500 });
    const a = new DepSyncer({ store, leases, keyProvider, holder: 'a', pageLimit: 100 });
    const b = new DepSyncer({ store, leases, keyProvider, holder: 'b', pageLimit: 100 });
    const [ra, rb] = await Promise.all([a.syncToken('main'), b.syncToken('main')]);
    expect([ra.ran, rb.ran].filter(Boolean)).toHaveLength(1);
    expect(mock.requests.filter((r) => r.path === '/server/devices')).toHaveLength(5);
  });

  it('assigns the default profile under the token lease: two replicas never assign at once', async () => {
    const { store, leases, mock, byToken } = await setup({ devices: 30, withDefault: true });
    const profileUuid = byToken.get('main')!.profileUuid!;
    // sync without a default, so every device waits for one
    await store.updateDepTokenStatus('main', { defaultProfileUuid: undefined });
    const a = new DepSyncer({ store, leases, keyProvider, holder: 'a', pageLimit: 100 });
    const b = new DepSyncer({ store, leases, keyProvider, holder: 'b', pageLimit: 100 });
    await a.syncToken('main');
    await store.updateDepTokenStatus('main', { defaultProfileUuid: profileUuid });
    const assignCalls = () => mock.requests.filter((r) => r.path === '/profile/devices').length;

    // while another replica holds the lease, nothing is sent to Apple
    const held = await leases.acquireLease(depLeaseName('main'), 'replica-c', 60_000);
    expect(await b.assignDefaultProfile('main')).toEqual({ ran: false, assigned: 0 });
    expect(assignCalls()).toBe(0);
    await leases.releaseLease(held!);

    // two replicas racing: one assigns, the other is turned away
    const [ra, rb] = await Promise.all([a.assignDefaultProfile('main'), b.assignDefaultProfile('main')]);
    expect([ra.ran, rb.ran].filter(Boolean)).toHaveLength(1);
    expect(ra.assigned + rb.assigned).toBe(30);
    expect(assignCalls()).toBe(1);
    // the lease is released afterwards: a sync can run at once
    expect((await b.syncToken('main')).ran).toBe(true);
  });

  it('a replica whose lease was taken over while Apple answered records no assignment (fenced)', async () => {
    const { store, leases, mock, byToken } = await setup({ devices: 5, withDefault: true });
    const profileUuid = byToken.get('main')!.profileUuid!;
    await store.updateDepTokenStatus('main', { defaultProfileUuid: undefined });
    const clockA = fakeClock();
    const a0 = new DepSyncer({ store, leases, keyProvider, holder: 'a', pageLimit: 100, clock: clockA });
    await a0.syncToken('main');
    await store.updateDepTokenStatus('main', { defaultProfileUuid: profileUuid });
    // Replica b takes the lease over (a's expired) and writes while a waits for Apple's answer.
    let takenOver = false;
    const slowStore = new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop !== 'listDepDevicesAwaitingProfile' || typeof v !== 'function')
          return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: unknown[]) => {
          const waiting = await v.apply(target, args);
          if (!takenOver) {
            takenOver = true;
            const later = new Date(clockA.now() + 3_600_000);
            const b = await leases.acquireLease(depLeaseName('main'), 'b', 120_000, later);
            expect(b).toBeDefined();
            await target.resetDepCursor('main', b!.token);
          }
          return waiting;
        };
      },
    });
    const a = new DepSyncer({
      store: slowStore,
      leases,
      keyProvider,
      holder: 'a',
      pageLimit: 100,
      clock: clockA,
    });
    const error = await a.assignDefaultProfile('main').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(takenOver).toBe(true);
    for (const serial of mock.inventory.devices.keys())
      expect(await store.getDepAssignment('main', serial), serial).toBeUndefined();
    expect(error).toMatchObject({ code: 'FENCED' });
  });

  it('a server that never stops answering more_to_follow (cursor moving) cannot keep a run going: it ends at maxPagesPerRun with the pages stored', async () => {
    const { store, leases, mock } = await setup({ devices: 0 });
    for (let i = 1; i <= 40; i++) {
      mock.injectFault(
        {
          kind: 'body',
          body: JSON.stringify({
            cursor: `endless-${i}`,
            more_to_follow: true,
            devices: [{ serial_number: `ENDLESS${i}`, op_type: 'added' }],
          }),
        },
        { path: '/server/devices' },
      );
    }
    const syncer = new DepSyncer({
      store,
      leases,
      keyProvider,
      pageLimit: 100,
      maxPagesPerRun: 10,
      clock: fakeClock(),
    });
    const report = await syncer.syncToken('main');
    expect(report).toMatchObject({ ran: true, pages: 10, added: 10, morePending: true });
    expect(await store.getDepCursor('main')).toMatchObject({ cursor: 'endless-10', phase: 'fetch' });
    expect(await store.getDepDevice('main', 'ENDLESS10')).toBeDefined();
    expect(await store.getDepDevice('main', 'ENDLESS11')).toBeUndefined();
    // the lease is free again for the next run, which carries on from the stored cursor
    expect((await syncer.syncToken('main')).pages).toBe(10);
    expect(await store.getDepCursor('main')).toMatchObject({ cursor: 'endless-20' });
    expect(() => new DepSyncer({ store, leases, keyProvider, maxPagesPerRun: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it('records a terms-and-conditions block on the token as a typed state', async () => {
    const { store, syncer, mock } = await setup({ devices: 1 });
    mock.termsNotSigned = true;
    const e = await syncer.syncToken('main').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DepError);
    expect((e as DepError).code).toBe('TERMS_NOT_SIGNED');
    expect(await store.getDepToken('main')).toMatchObject({ termsNotSigned: true });
    mock.termsNotSigned = false;
    await syncer.syncToken('main');
    expect((await store.getDepToken('main'))?.termsNotSigned).toBeUndefined();
  });

  it('leaves cursor and devices unchanged when a page has a device without serial number', async () => {
    const { store, syncer, mock } = await setup({ devices: 2 });
    await syncer.syncToken('main');
    const before = await store.getDepCursor('main');
    mock.injectFault(
      {
        kind: 'body',
        body: JSON.stringify({
          cursor: 'zzz',
          more_to_follow: false,
          devices: [{ serial_number: 'OK1', op_type: 'added' }, { op_type: 'added' }],
        }),
      },
      { path: '/devices/sync' },
    );
    await expect(syncer.syncToken('main')).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
    expect(await store.getDepCursor('main')).toEqual(before);
    expect(await store.getDepDevice('main', 'OK1')).toBeUndefined();
  });

  // A cursor goes back to Apple verbatim: PostgreSQL text cannot hold U+0000, and no UTF-8 driver can
  // send a lone surrogate (JSON escapes it; JSON.parse gives it back as one UTF-16 unit).
  it.each([
    ['U+0000', 'next\u0000cursor'],
    ['a lone surrogate', 'next\uD800cursor'],
  ])(
    'refuses a page whose cursor holds %s on every store and keeps the stored cursor',
    async (_what, cursor) => {
      const { store, syncer, mock } = await setup({ devices: 2 });
      await syncer.syncToken('main');
      const before = await store.getDepCursor('main');
      mock.injectFault(
        {
          kind: 'body',
          body: JSON.stringify({
            cursor,
            more_to_follow: false,
            devices: [{ serial_number: 'OK2', op_type: 'added' }],
          }),
        },
        { path: '/devices/sync' },
      );
      await expect(syncer.syncToken('main')).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
      expect(await store.getDepCursor('main')).toEqual(before);
      expect(await store.getDepDevice('main', 'OK2')).toBeUndefined();
    },
  );

  it('keeps a device with an op_type or date it does not know, with the raw JSON', async () => {
    const { store, syncer, mock } = await setup({ devices: 1 });
    await syncer.syncToken('main');
    mock.injectFault(
      {
        kind: 'body',
        body: JSON.stringify({
          cursor: 'c9',
          more_to_follow: false,
          devices: [{ serial_number: 'ODD', op_type: 'transferred', op_date: 'yesterday', future_field: 1 }],
        }),
      },
      { path: '/devices/sync' },
    );
    await syncer.syncToken('main');
    const d = await store.getDepDevice('main', 'ODD');
    expect(d).toMatchObject({ opType: 'modified' });
    expect(d?.opDate).toBeUndefined();
    expect(JSON.parse(d!.raw!)).toMatchObject({ op_type: 'transferred', future_field: 1 });
  });

  it('runs in the background on an interval and stops', async () => {
    const { store, leases, mock } = await setup({ devices: 2 });
    const errors: unknown[] = [];
    const syncer = new DepSyncer({
      store,
      leases,
      keyProvider,
      intervalMs: 20,
      onError: (e) => errors.push(e),
    });
    syncer.start();
    await new Promise((r) => setTimeout(r, 200));
    await syncer.stop();
    expect((await store.listDepDevices('main')).items).toHaveLength(2);
    expect(errors).toEqual([]);
    expect(mock.requests.filter((r) => r.path === '/devices/sync').length).toBeGreaterThan(1);
  });

  it('keeps the background loop alive when storage fails to list tokens or onError throws', async () => {
    const store = new MemoryDepStore();
    const leases = new MemoryStorage();
    await leases.migrate();
    let calls = 0;
    store.listDepTokens = async () => {
      calls++;
      if (calls <= 2) throw new Error('database unreachable');
      return [];
    };
    const errors: unknown[] = [];
    const syncer = new DepSyncer({
      store,
      leases,
      keyProvider,
      intervalMs: 5,
      onError: (e) => {
        errors.push(e);
        if (errors.length === 2) throw new Error('a listener that throws');
      },
    });
    syncer.start();
    for (let i = 0; i < 100 && calls < 4; i++) await new Promise((r) => setTimeout(r, 10));
    await syncer.stop();
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(errors.map((e) => (e as Error).message)).toEqual(['database unreachable', 'database unreachable']);
  });

  it('keeps its lease through a long assignment phase, so no other replica starts on the token', async () => {
    const { store, leases, mock } = await setup({ devices: 2500, withDefault: true });
    const clock = fakeClock();
    const ttl = 10_000;
    const attempts: Promise<unknown>[] = [];
    let assigned = 0;
    const syncer = new DepSyncer({
      store,
      leases,
      keyProvider,
      clock,
      leaseTtlMs: ttl,
      onEvent: (e) => {
        if (e.type !== 'assigned' || assigned++ % 1000 !== 0) return;
        // Each round of 1000 assignments takes 60% of the lease's lifetime; another replica tries.
        clock.advance(ttl * 0.6);
        attempts.push(leases.acquireLease(depLeaseName('main'), 'replica-b', ttl, new Date(clock.now())));
      },
    });
    const report = await syncer.syncToken('main');
    expect(report.assigned).toBe(2500);
    expect(attempts).toHaveLength(3);
    expect(await Promise.all(attempts)).toEqual([undefined, undefined, undefined]);
    expect(mock.inventory.devices.size).toBe(2500);
  });
});
