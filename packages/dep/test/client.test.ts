import { startMockDep, type MockDep } from '@mdmkit/testkit/mock-dep';
import { afterEach, describe, expect, it } from 'vitest';
import { DepClient, DepError } from '../src/index';
import { fakeClock } from './fake-clock';

let mock: MockDep | undefined;
let client: DepClient | undefined;
afterEach(async () => {
  await client?.close();
  await mock?.close();
  client = undefined;
  mock = undefined;
});

/** The error a call rejects with; fails the test if the call throws synchronously or resolves. */
async function rejection(call: () => Promise<unknown>): Promise<unknown> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (e) {
    throw new Error(`threw synchronously instead of rejecting: ${String(e)}`);
  }
  expect(promise).toBeInstanceOf(Promise);
  return promise.then(
    () => {
      throw new Error('resolved instead of rejecting');
    },
    (e: unknown) => e,
  );
}

async function setup(devices = 0, clock = fakeClock()) {
  mock = await startMockDep({ devices });
  client = new DepClient({ token: mock.credentials, baseUrl: mock.url, clock, random: () => 0.5 });
  return { mock, client, clock };
}

describe('DepClient: session', () => {
  it('opens one session and sends it with the protocol version on every call', async () => {
    const { mock, client } = await setup(3);
    await client.getAccount();
    await client.fetchDevices();
    expect(mock.sessionsIssued).toBe(1);
    expect(client.sessionsOpened).toBe(1);
    expect(mock.requests.map((r) => [r.path, r.protocolVersion, r.status])).toEqual([
      ['/session', '3', 200],
      ['/account', '3', 200],
      ['/server/devices', '3', 200],
    ]);
  });

  it('re-authenticates transparently on 401 (expired session) and replays the call once', async () => {
    const { mock, client } = await setup(1);
    await client.getAccount();
    mock.expireSessions();
    const account = await client.getAccount();
    expect(account.org_name).toBe('Example Org');
    expect(mock.sessionsIssued).toBe(2);
    expect(mock.requests.map((r) => r.status)).toEqual([200, 200, 401, 200, 200]);
  });

  it('re-authenticates on 403 FORBIDDEN (session unknown to the server)', async () => {
    const { mock, client } = await setup();
    await client.getAccount();
    mock.injectFault({ kind: 'status', status: 403, body: 'FORBIDDEN' }, { path: '/account' });
    await client.getAccount();
    expect(mock.sessionsIssued).toBe(2);
  });

  it('gives up with UNAUTHORIZED after one re-authentication fails', async () => {
    const { mock } = await setup();
    const bad = new DepClient({ token: { ...mock.credentials, accessSecret: 'wrong' }, baseUrl: mock.url });
    await expect(bad.getAccount()).rejects.toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    await bad.close();
  });

  it('reports a terms-and-conditions block as TERMS_NOT_SIGNED, on the session and on calls', async () => {
    const { mock, client } = await setup();
    await client.getAccount();
    mock.termsNotSigned = true;
    const e = await client.getAccount().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DepError);
    expect(e).toMatchObject({ code: 'TERMS_NOT_SIGNED', status: 403, body: 'T_C_NOT_SIGNED' });
    client.resetSession();
    await expect(client.getAccount()).rejects.toMatchObject({ code: 'TERMS_NOT_SIGNED' });
    mock.termsNotSigned = false;
    expect((await client.getAccount()).server_name).toBeTypeOf('string');
  });
});

describe('DepClient: rate limits', () => {
  it('waits what Retry-After asks on 429 and 503, then succeeds', async () => {
    const { mock, client, clock } = await setup();
    await client.getAccount();
    mock.throttle(1, { retryAfterSeconds: 7 });
    mock.throttle(1, { status: 503, retryAfterSeconds: 2 });
    await client.getAccount();
    expect(clock.sleeps).toEqual([7000, 2000]);
  });

  it('backs off with jitter without Retry-After and stops after the bounded retries with RATE_LIMITED', async () => {
    const clock = fakeClock();
    mock = await startMockDep();
    client = new DepClient({
      token: mock.credentials,
      baseUrl: mock.url,
      clock,
      random: () => 0.5,
      retry: { maxRetries: 2, baseDelayMs: 100 },
    });
    await client.getAccount();
    mock.throttle(3, { retryAfterSeconds: 0 });
    await expect(client.getAccount()).rejects.toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect(clock.sleeps).toEqual([50, 100]); // random 0.5 × 100 × 2^attempt
  });
});

describe('DepClient: endpoints', () => {
  it('fetches all devices page by page, then syncs changes with op_type', async () => {
    const { mock, client } = await setup(25);
    let page = await client.fetchDevices({ limit: 10 });
    const serials = page.devices.map((d) => d.serial_number);
    while (page.more_to_follow) {
      page = await client.fetchDevices({ cursor: page.cursor, limit: 10 });
      serials.push(...page.devices.map((d) => d.serial_number));
    }
    expect(new Set(serials).size).toBe(25);
    await expect(client.fetchDevices({ cursor: page.cursor })).rejects.toMatchObject({
      code: 'CURSOR_EXHAUSTED',
    });
    mock.addDevice('C02NEW');
    const sync = await client.syncDevices({ cursor: page.cursor });
    expect(sync.devices.map((d) => [d.serial_number, d.op_type])).toEqual([['C02NEW', 'added']]);
  });

  it('types cursor errors: invalid, expired, required', async () => {
    const { mock, client } = await setup(1);
    await expect(client.syncDevices({ cursor: 'bogus' })).rejects.toMatchObject({ code: 'CURSOR_INVALID' });
    const { cursor } = await client.fetchDevices();
    mock.expireCursors();
    await expect(client.syncDevices({ cursor })).rejects.toMatchObject({ code: 'CURSOR_EXPIRED' });
    await expect(rejection(() => client.syncDevices({ cursor: '' }))).resolves.toMatchObject({
      code: 'CURSOR_REQUIRED',
    });
  });

  it('defines, reads, assigns and removes profiles, surfacing per-device statuses', async () => {
    const { mock, client } = await setup(2);
    const [a, b] = [...mock.inventory.devices.keys()] as [string, string];
    const { profile_uuid } = await client.defineProfile({
      profile_name: 'Default',
      url: 'https://mdm.example.com/enroll',
      is_supervised: true,
    });
    expect((await client.getProfile(profile_uuid)).profile_name).toBe('Default');
    const assigned = await client.assignProfile(profile_uuid, [a, 'NOPE']);
    expect(assigned.devices).toEqual({ [a]: 'SUCCESS', NOPE: 'NOT_ACCESSIBLE' });
    expect((await client.removeProfile([a, b])).devices).toEqual({ [a]: 'SUCCESS', [b]: 'NOT_ACCESSIBLE' });
  });

  it('refuses to send bad input, always as a rejected promise with INVALID_INPUT (never a throw)', async () => {
    const { client, mock } = await setup();
    await client.getAccount();
    const before = mock.requests.length;
    const tooMany = Array.from({ length: 1001 }, (_, i) => `S${i}`);
    const calls: [string, () => Promise<unknown>][] = [
      ['fetchDevices limit', () => client.fetchDevices({ limit: 5000 })],
      ['fetchDevices cursor', () => client.fetchDevices({ cursor: '' })],
      ['fetchDevices null', () => client.fetchDevices(null as never)],
      ['syncDevices limit', () => client.syncDevices({ cursor: 'c', limit: 0 })],
      ['getDeviceDetails', () => client.getDeviceDetails([])],
      ['getDeviceDetails not a list', () => client.getDeviceDetails('C02' as never)],
      ['disownDevices', () => client.disownDevices(tooMany)],
      ['defineProfile', () => client.defineProfile({ profile_name: '', url: 'not a url' })],
      ['getProfile', () => client.getProfile('')],
      ['assignProfile no devices', () => client.assignProfile('X', [])],
      ['assignProfile no profile', () => client.assignProfile('', ['C02'])],
      ['removeProfile', () => client.removeProfile([''])],
      ['activationLock', () => client.activationLock({} as never)],
      ['setAccountDrivenEnrollmentProfile', () => client.setAccountDrivenEnrollmentProfile('nope')],
    ];
    for (const [what, call] of calls) {
      const error = await rejection(call);
      expect(error, what).toBeInstanceOf(DepError);
      expect((error as DepError).code, what).toBe('INVALID_INPUT');
    }
    expect(mock.requests.length).toBe(before);
  });

  it('rejects every call of a closed client instead of throwing', async () => {
    const { client } = await setup();
    await client.close();
    await expect(rejection(() => client.getAccount())).resolves.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(rejection(() => client.fetchDevices())).resolves.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('covers details, disown, activation lock, account-driven enrollment and beta tokens', async () => {
    const { mock, client } = await setup(2);
    const [a, b] = [...mock.inventory.devices.keys()] as [string, string];
    const details = await client.getDeviceDetails([a, 'X']);
    expect(details.devices[a]?.response_status).toBe('SUCCESS');
    expect(details.devices.X?.response_status).toBe('NOT_ACCESSIBLE');
    expect(await client.activationLock({ device: a, escrow_key: 'abc' })).toEqual({
      serial_number: a,
      response_status: 'SUCCESS',
    });
    await client.setAccountDrivenEnrollmentProfile(
      'https://mdm.example.com/.well-known/com.apple.remotemanagement',
    );
    expect((await client.getAccountDrivenEnrollmentProfile()).mdm_service_discovery_url).toContain(
      'remotemanagement',
    );
    expect((await client.getOsBetaEnrollmentTokens()).betaEnrollmentTokens[0]?.token).toBe('mock-beta-token');
    expect((await client.disownDevices([b])).devices).toEqual({ [b]: 'SUCCESS' });
  });
});

describe('DepClient: bad answers', () => {
  it('turns an HTML error page into INVALID_RESPONSE or HTTP_ERROR, never a crash', async () => {
    const { mock, client } = await setup(1);
    await client.getAccount();
    mock.injectFault({ kind: 'html', status: 200 }, { path: '/account' });
    await expect(client.getAccount()).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
    mock.injectFault({ kind: 'html', status: 502 }, { path: '/account' });
    await expect(client.getAccount()).rejects.toMatchObject({ code: 'HTTP_ERROR', status: 502 });
  });

  it('turns JSON missing fields into INVALID_RESPONSE naming the field', async () => {
    const { mock, client } = await setup(1);
    mock.injectFault(
      { kind: 'body', body: JSON.stringify({ more_to_follow: false, devices: [] }) },
      { path: '/server/devices' },
    );
    await expect(client.fetchDevices()).rejects.toThrow(/cursor/);
    mock.injectFault(
      {
        kind: 'body',
        body: JSON.stringify({ cursor: 'c', more_to_follow: false, devices: [{ model: 'x' }] }),
      },
      { path: '/server/devices' },
    );
    await expect(client.fetchDevices()).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
  });

  it('turns a truncated body into INVALID_RESPONSE and keeps working afterwards', async () => {
    const { mock, client } = await setup(1);
    mock.injectFault({ kind: 'truncate' }, { path: '/server/devices' });
    await expect(client.fetchDevices()).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
    expect((await client.fetchDevices()).devices).toHaveLength(1);
  });

  it('maps an unexpected status to HTTP_ERROR with the status and body', async () => {
    const { mock, client } = await setup();
    mock.injectFault({ kind: 'status', status: 418, body: 'TEAPOT' }, { path: '/account' });
    await expect(client.getAccount()).rejects.toMatchObject({
      code: 'HTTP_ERROR',
      status: 418,
      body: 'TEAPOT',
    });
  });

  it('gives up on a server that never answers within the deadline (NETWORK), without hanging', async () => {
    const clock = fakeClock();
    mock = await startMockDep();
    client = new DepClient({
      token: mock.credentials,
      baseUrl: mock.url,
      clock,
      timeoutMs: 300,
      retry: { maxRetries: 1 },
    });
    await client.getAccount();
    mock.injectFault({ kind: 'hang' }, { path: '/account' });
    mock.injectFault({ kind: 'hang' }, { path: '/account' });
    const t0 = Date.now();
    await expect(client.getAccount()).rejects.toMatchObject({ code: 'NETWORK' });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(clock.sleeps).toHaveLength(1);
  });

  it('reports a refused connection as NETWORK after bounded retries', async () => {
    const clock = fakeClock();
    const m = await startMockDep();
    const url = m.url;
    const creds = m.credentials;
    await m.close();
    client = new DepClient({ token: creds, baseUrl: url, clock, retry: { maxRetries: 2 } });
    await expect(client.getAccount()).rejects.toMatchObject({ code: 'NETWORK' });
    expect(clock.sleeps).toHaveLength(2);
  });
});
