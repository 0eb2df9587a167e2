// The mock DEP service on its own, driven by plain HTTP requests whose OAuth header comes from an
// independent OAuth library, so that the mock and @mdmkit/dep cannot share a misunderstanding.
import { createHmac } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import { afterEach, describe, expect, it } from 'vitest';
import { type MockDep, startMockDep } from '../src/mock-dep';

// biome-ignore lint/suspicious/noExplicitAny: the tests read Apple's JSON freely and assert on it
type Json = Record<string, any>;

let mock: MockDep | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

function authHeader(m: MockDep, opts: { secret?: string; url?: string } = {}): string {
  const oauth = new OAuth({
    consumer: { key: m.credentials.consumerKey, secret: opts.secret ?? m.credentials.consumerSecret },
    signature_method: 'HMAC-SHA1',
    realm: 'ADM',
    hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
  });
  const data = oauth.authorize(
    { url: opts.url ?? `${m.url}/session`, method: 'GET' },
    { key: m.credentials.accessToken, secret: m.credentials.accessSecret },
  );
  return oauth.toHeader(data).Authorization;
}

async function session(m: MockDep): Promise<string> {
  const res = await fetch(`${m.url}/session`, { headers: { authorization: authHeader(m) } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { auth_session_token: string };
  return body.auth_session_token;
}

async function call(m: MockDep, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${m.url}${path}`, {
    method,
    headers: {
      'x-adm-auth-session': token,
      'x-server-protocol-version': '3',
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: () => JSON.parse(text) as Json,
    headers: res.headers,
  };
}

describe('mock DEP: session', () => {
  it('gives a session for a header signed by oauth-1.0a', async () => {
    mock = await startMockDep();
    const token = await session(mock);
    expect(token).toMatch(/^session-/);
    expect(mock.sessionsIssued).toBe(1);
  });

  it('refuses a wrong signature, an unsigned request and a replayed nonce with 401 UNAUTHORIZED', async () => {
    mock = await startMockDep();
    const bad = await fetch(`${mock.url}/session`, {
      headers: { authorization: authHeader(mock, { secret: 'wrong' }) },
    });
    expect([bad.status, await bad.text()]).toEqual([401, 'UNAUTHORIZED']);
    const none = await fetch(`${mock.url}/session`);
    expect(none.status).toBe(401);
    const header = authHeader(mock);
    expect((await fetch(`${mock.url}/session`, { headers: { authorization: header } })).status).toBe(200);
    const replay = await fetch(`${mock.url}/session`, { headers: { authorization: header } });
    expect(replay.status).toBe(401);
    expect(mock.sessionsIssued).toBe(1);
  });

  it('answers 403 FORBIDDEN to an unknown session and 401 UNAUTHORIZED to an expired one', async () => {
    mock = await startMockDep();
    expect((await call(mock, 'made-up', 'GET', '/account')).text).toBe('FORBIDDEN');
    const token = await session(mock);
    expect((await call(mock, token, 'GET', '/account')).status).toBe(200);
    mock.expireSessions();
    const r = await call(mock, token, 'GET', '/account');
    expect([r.status, r.text]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('answers 403 T_C_NOT_SIGNED while terms are pending, on /session and on calls', async () => {
    mock = await startMockDep();
    const token = await session(mock);
    mock.termsNotSigned = true;
    expect((await call(mock, token, 'GET', '/account')).text).toBe('T_C_NOT_SIGNED');
    const s = await fetch(`${mock.url}/session`, { headers: { authorization: authHeader(mock) } });
    expect([s.status, await s.text()]).toEqual([403, 'T_C_NOT_SIGNED']);
  });
});

describe('mock DEP: devices', () => {
  it('pages a fetch with cursors and more_to_follow, then says EXHAUSTED_CURSOR', async () => {
    mock = await startMockDep({ devices: 250 });
    const token = await session(mock);
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const r = (
        await call(mock, token, 'POST', '/server/devices', { limit: 100, ...(cursor && { cursor }) })
      ).json();
      pages++;
      for (const d of r.devices) seen.add(d.serial_number);
      cursor = r.cursor;
      if (!r.more_to_follow) break;
    }
    expect(pages).toBe(3);
    expect(seen.size).toBe(250);
    const again = await call(mock, token, 'POST', '/server/devices', { cursor });
    expect([again.status, again.text]).toEqual([400, 'EXHAUSTED_CURSOR']);
  });

  it('syncs added, modified and deleted devices in order with op_type and op_date', async () => {
    mock = await startMockDep({ devices: 2 });
    const token = await session(mock);
    const first = (await call(mock, token, 'POST', '/server/devices', { limit: 1000 })).json();
    mock.addDevice('NEW1');
    mock.modifyDevice('NEW1', { color: 'SILVER' });
    mock.deleteDevice(first.devices[0].serial_number);
    const sync = (await call(mock, token, 'POST', '/devices/sync', { cursor: first.cursor })).json();
    expect(sync.devices.map((d: Json) => [d.serial_number, d.op_type])).toEqual([
      ['NEW1', 'added'],
      ['NEW1', 'modified'],
      [first.devices[0].serial_number, 'deleted'],
    ]);
    expect(Number.isNaN(Date.parse(sync.devices[0].op_date))).toBe(false);
    expect(sync.more_to_follow).toBe(false);
    const empty = (await call(mock, token, 'POST', '/devices/sync', { cursor: sync.cursor })).json();
    expect(empty.devices).toEqual([]);
  });

  it('answers CURSOR_REQUIRED, INVALID_CURSOR and EXPIRED_CURSOR as Apple does', async () => {
    mock = await startMockDep({ devices: 1 });
    const token = await session(mock);
    expect((await call(mock, token, 'POST', '/devices/sync', {})).text).toBe('CURSOR_REQUIRED');
    expect((await call(mock, token, 'POST', '/devices/sync', { cursor: 'nope' })).text).toBe(
      'INVALID_CURSOR',
    );
    const { cursor } = (await call(mock, token, 'POST', '/server/devices', {})).json();
    mock.expireCursors();
    const r = await call(mock, token, 'POST', '/devices/sync', { cursor });
    expect([r.status, r.text]).toEqual([400, 'EXPIRED_CURSOR']);
  });

  it('tracks profile assignment and removal per device, with NOT_ACCESSIBLE for unknown serials', async () => {
    mock = await startMockDep({ devices: 2 });
    const token = await session(mock);
    const [a, b] = [...mock.inventory.devices.keys()];
    const def = (
      await call(mock, token, 'POST', '/profile', {
        profile_name: 'Default',
        url: 'https://mdm.example.com/enroll',
      })
    ).json();
    expect(def.profile_uuid).toMatch(/^[0-9A-F]{32}$/);
    const assigned = (
      await call(mock, token, 'POST', '/profile/devices', {
        profile_uuid: def.profile_uuid,
        devices: [a, 'UNKNOWN'],
      })
    ).json();
    expect(assigned.devices).toEqual({ [a!]: 'SUCCESS', UNKNOWN: 'NOT_ACCESSIBLE' });
    expect(mock.inventory.devices.get(a!)).toMatchObject({
      profile_status: 'assigned',
      profile_uuid: def.profile_uuid,
    });
    const got = (await call(mock, token, 'GET', `/profile?profile_uuid=${def.profile_uuid}`)).json();
    expect(got.profile_name).toBe('Default');
    const removed = (await call(mock, token, 'DELETE', '/profile/devices', { devices: [a, b] })).json();
    expect(removed.devices).toEqual({ [a!]: 'SUCCESS', [b!]: 'NOT_ACCESSIBLE' });
    expect(mock.inventory.devices.get(a!)?.profile_status).toBe('removed');
    expect((await call(mock, token, 'POST', '/profile', { url: 'https://x' })).text).toBe(
      'CONFIG_NAME_REQUIRED',
    );
  });

  it('throttles with 429 and Retry-After', async () => {
    mock = await startMockDep();
    const token = await session(mock);
    mock.throttle(1, { retryAfterSeconds: 7 });
    const r = await call(mock, token, 'GET', '/account');
    expect([r.status, r.headers.get('retry-after')]).toEqual([429, '7']);
    expect((await call(mock, token, 'GET', '/account')).status).toBe(200);
  });

  it('serves account, details, disown, activation lock, account-driven enrollment and beta tokens', async () => {
    mock = await startMockDep({ devices: 1 });
    const token = await session(mock);
    const [serial] = [...mock.inventory.devices.keys()];
    expect((await call(mock, token, 'GET', '/account')).json().server_name).toBeTypeOf('string');
    const details = (await call(mock, token, 'POST', '/devices', { devices: [serial, 'X'] })).json();
    expect(details.devices[serial!].response_status).toBe('SUCCESS');
    expect(details.devices.X.response_status).toBe('NOT_ACCESSIBLE');
    expect(
      (await call(mock, token, 'POST', '/device/activationlock', { device: serial, escrow_key: 'k' })).json(),
    ).toEqual({
      serial_number: serial,
      response_status: 'SUCCESS',
    });
    expect(
      (
        await call(mock, token, 'POST', '/account-driven-enrollment/profile', {
          mdm_service_discovery_url: 'https://e/x',
        })
      ).status,
    ).toBe(200);
    expect(
      (await call(mock, token, 'GET', '/account-driven-enrollment/profile')).json().mdm_service_discovery_url,
    ).toBe('https://e/x');
    expect(
      (await call(mock, token, 'GET', '/os-beta-enrollment/tokens')).json().betaEnrollmentTokens,
    ).toHaveLength(1);
    expect(
      (await call(mock, token, 'POST', '/devices/disown', { devices: [serial] })).json().devices[serial!],
    ).toBe('SUCCESS');
    expect(mock.inventory.devices.size).toBe(0);
    expect((await call(mock, token, 'POST', '/devices', 'not an object')).text).toBe(
      'MALFORMED_REQUEST_BODY',
    );
  });

  it('records the protocol version of each request', async () => {
    mock = await startMockDep();
    const token = await session(mock);
    await call(mock, token, 'GET', '/account');
    expect(mock.requests.at(-1)).toMatchObject({ path: '/account', protocolVersion: '3', status: 200 });
  });
});
