import { type MdmStorage, MemoryStorage } from '@mdmkit/storage';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index';

// Random queue workloads must give the same answers from SQLite as from the reference MemoryStorage.
const runs = Number(process.env.MDMKIT_FUZZ_RUNS ?? 40);
const T = Date.parse('2030-01-01T00:00:00Z');
const enrollments = ['e0', 'e1', 'e2'];
const statuses = ['Acknowledged', 'Error', 'CommandFormatError', 'NotNow', 'Idle'] as const;

type Op =
  | { kind: 'enqueue'; priority: number; targets: string[]; notBefore?: number; expiresAt?: number }
  | { kind: 'next'; e: string; skip: boolean; at: number }
  | { kind: 'record'; e: string; cmd: number; status: (typeof statuses)[number]; at: number }
  | { kind: 'clear'; e: string }
  | { kind: 'list'; e: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('enqueue' as const),
    priority: fc.integer({ min: -1, max: 1 }),
    targets: fc.subarray(enrollments),
    notBefore: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
    expiresAt: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('next' as const),
    e: fc.constantFrom(...enrollments),
    skip: fc.boolean(),
    at: fc.integer({ min: 0, max: 20 }),
  }),
  fc.record({
    kind: fc.constant('record' as const),
    e: fc.constantFrom(...enrollments),
    cmd: fc.integer({ min: 0, max: 12 }),
    status: fc.constantFrom(...statuses),
    at: fc.integer({ min: 0, max: 20 }),
  }),
  fc.record({ kind: fc.constant('clear' as const), e: fc.constantFrom(...enrollments) }),
  fc.record({ kind: fc.constant('list' as const), e: fc.constantFrom(...enrollments) }),
);

async function apply(s: MdmStorage, ops: Op[]): Promise<unknown[]> {
  const out: unknown[] = [];
  let n = 0;
  for (const o of ops) {
    switch (o.kind) {
      case 'enqueue': {
        const cmd = {
          uuid: `c${n++}`,
          requestType: 'R',
          payload: new Uint8Array([n]),
          priority: o.priority,
          ...(o.notBefore !== undefined ? { notBefore: new Date(T + o.notBefore * 1000) } : {}),
          ...(o.expiresAt !== undefined ? { expiresAt: new Date(T + o.expiresAt * 1000) } : {}),
        };
        await s.enqueueCommand(cmd, o.targets);
        out.push('ok');
        break;
      }
      case 'next':
        out.push(
          (await s.nextCommand(o.e, { skipNotNow: o.skip, now: new Date(T + o.at * 1000) }))?.uuid ?? null,
        );
        break;
      case 'record': {
        const r = await s.recordResult(
          {
            enrollmentId: o.e,
            status: o.status,
            ...(o.status === 'Idle' ? {} : { commandUuid: `c${o.cmd}` }),
          },
          { now: new Date(T + o.at * 1000) },
        );
        out.push([r.outcome, r.next?.uuid ?? null]);
        break;
      }
      case 'clear':
        out.push(await s.clearQueue(o.e));
        break;
      case 'list':
        out.push((await s.listQueue(o.e)).map((q) => [q.uuid, q.lastStatus ?? null, q.notNowCount]));
        break;
    }
  }
  for (const e of enrollments) {
    out.push((await s.listHistory(e, { limit: 1000 })).items.map((r) => [r.commandUuid, r.status]));
  }
  return out;
}

describe('sqlite matches MemoryStorage on random queue workloads', () => {
  it('gives identical outcomes, picks, queues and histories', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const mem = new MemoryStorage();
        const sql = await createSqliteStorage({ path: ':memory:' });
        try {
          expect(await apply(sql, ops)).toEqual(await apply(mem, ops));
        } finally {
          await sql.close();
        }
      }),
      { numRuns: runs },
    );
  });
});

type EOp =
  | { kind: 'auth'; d: number; serial?: string }
  | { kind: 'token'; id: number; user: boolean }
  | { kind: 'userAuth'; d: number }
  | { kind: 'checkout'; id: number; user: boolean }
  | { kind: 'seen'; id: number; user: boolean; at: number }
  | { kind: 'cert'; id: number; user: boolean; hash: number };

const eop: fc.Arbitrary<EOp> = fc.oneof(
  fc.record({
    kind: fc.constant('auth' as const),
    d: fc.nat(3),
    serial: fc.option(fc.constantFrom('A', 'B'), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('token' as const), id: fc.nat(3), user: fc.boolean() }),
  fc.record({ kind: fc.constant('userAuth' as const), d: fc.nat(3) }),
  fc.record({ kind: fc.constant('checkout' as const), id: fc.nat(3), user: fc.boolean() }),
  fc.record({
    kind: fc.constant('seen' as const),
    id: fc.nat(3),
    user: fc.boolean(),
    at: fc.integer({ min: 0, max: 200 }),
  }),
  fc.record({ kind: fc.constant('cert' as const), id: fc.nat(3), user: fc.boolean(), hash: fc.nat(4) }),
);

const dev = (n: number) => `D${n}`;
const usr = (n: number) => `D${n}:U`;

async function applyEnrollments(s: MdmStorage, ops: EOp[]): Promise<unknown[]> {
  const out: unknown[] = [];
  const settle = async (p: Promise<unknown>) => {
    try {
      out.push(await p);
    } catch (e) {
      out.push(`error ${(e as { code?: string }).code}`);
    }
  };
  let tok = 0;
  for (const o of ops) {
    const id = 'id' in o ? (o.user ? usr(o.id) : dev(o.id)) : '';
    switch (o.kind) {
      case 'auth':
        await settle(
          s.authenticate({ id: dev(o.d), ...(o.serial ? { serialNumber: o.serial } : {}), topic: 't' }),
        );
        break;
      case 'token':
        await settle(
          s.tokenUpdate({
            id,
            channel: o.user ? 'user' : 'device',
            deviceId: dev(o.id),
            topic: 't',
            pushToken: `p${tok++}`,
            pushMagic: 'm',
          }),
        );
        break;
      case 'userAuth':
        await settle(s.userAuthenticate({ id: usr(o.d), deviceId: dev(o.d), userShortName: 'u' }));
        break;
      case 'checkout':
        await settle(s.checkOut(id));
        break;
      case 'seen':
        await settle(s.touchLastSeen(id, new Date(T + o.at * 1000)));
        break;
      case 'cert':
        await settle(s.associateCertificate(id, `h${o.hash}`));
        break;
    }
  }
  const all = await s.listEnrollments({ limit: 1000 });
  out.push(
    all.items.map(({ createdAt: _c, updatedAt: _u, ...rest }) => ({
      ...rest,
      lastSeenAt: rest.lastSeenAt?.getTime() ?? null,
    })),
  );
  out.push(await s.getPushInfo([0, 1, 2, 3].flatMap((n) => [dev(n), usr(n)])));
  return out;
}

describe('sqlite matches MemoryStorage on random enrollment workloads', () => {
  it('gives identical records, tallies, last-seen writes, push info and certificate conflicts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eop, { minLength: 1, maxLength: 50 }), async (ops) => {
        const mem = new MemoryStorage();
        const sql = await createSqliteStorage({ path: ':memory:' });
        try {
          expect(await applyEnrollments(sql, ops)).toEqual(await applyEnrollments(mem, ops));
        } finally {
          await sql.close();
        }
      }),
      { numRuns: runs },
    );
  });
});
