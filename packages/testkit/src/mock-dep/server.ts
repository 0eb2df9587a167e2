// A mock of Apple's DEP API over plain HTTP/1.1, with Apple's paths, headers, status codes and bodies.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type OAuth1Credentials, parseOAuth1Header, verifyOAuth1Signature } from '@mdmkit/crypto';
import { TestkitError } from '../errors';
import { type MockDepCursor, type MockDepDevice, MockDepInventory } from './inventory';
import type { MockDep, MockDepFault, MockDepOptions, MockDepRequestRecord } from './types';

const MAX_BODY = 1024 * 1024;
const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;
const MAX_RECORDS = 10_000;

/** An answer: JSON for 2xx, Apple's bare error word otherwise. */
interface Answer {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

const err = (status: number, word: string): Answer => ({ status, text: word });
const ok = (json: unknown): Answer => ({ status: 200, json });

function random(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

/**
 * Starts a mock of Apple's DEP API (the endpoints `@mdmkit/dep` uses) on 127.0.0.1: OAuth 1.0a
 * signature check on `/session`, sessions that expire, cursors with `more_to_follow`, op_types,
 * profile assignment state, `T_C_NOT_SIGNED`, 429 with Retry-After, a seeded inventory of any size
 * and hooks to add, change and delete devices during a test.
 *
 * @example
 * ```ts
 * import { startMockDep } from '@mdmkit/testkit/mock-dep';
 * const mock = await startMockDep({ devices: 3 });
 * console.log(mock.inventory.devices.size); // 3
 * await mock.close();
 * ```
 */
export async function startMockDep(opts: MockDepOptions = {}): Promise<MockDep> {
  const now = opts.now ?? Date.now;
  const sessionTtl = opts.sessionTtlMs ?? 5 * 60_000;
  const cursorTtl = opts.cursorTtlMs ?? 7 * 86_400_000;
  const skew = opts.timestampSkewSeconds ?? 600;
  const creds: OAuth1Credentials = {
    consumerKey: opts.credentials?.consumerKey ?? random('CK_'),
    consumerSecret: opts.credentials?.consumerSecret ?? random('CS_'),
    accessToken: opts.credentials?.accessToken ?? random('AT_O'),
    accessSecret: opts.credentials?.accessSecret ?? random('AS_'),
  };
  const inv = new MockDepInventory(now);
  if (opts.devices) inv.seed(checkCount(opts.devices));
  const sessions = new Map<string, number>();
  const nonces = new Map<string, number>();
  const requests: MockDepRequestRecord[] = [];
  const throttles: { status: number; retryAfter: number }[] = [];
  const faults: { fault: MockDepFault; path: string | undefined }[] = [];
  let sessionsIssued = 0;
  let adeProfile: string | undefined;
  let serverUrl = '';

  const state = {
    termsNotSigned: false,
  };

  function checkSession(req: IncomingMessage): Answer | undefined {
    const token = req.headers['x-adm-auth-session'];
    const issued = typeof token === 'string' ? sessions.get(token) : undefined;
    if (issued === undefined) return err(403, 'FORBIDDEN');
    if (now() - issued > sessionTtl) {
      sessions.delete(token as string);
      return err(401, 'UNAUTHORIZED');
    }
    return undefined;
  }

  function session(req: IncomingMessage): Answer {
    const params = parseOAuth1Header(req.headers.authorization);
    if (!params) return err(401, 'UNAUTHORIZED');
    if (params.oauth_consumer_key !== creds.consumerKey || params.oauth_token !== creds.accessToken) {
      return err(401, 'UNAUTHORIZED');
    }
    const ts = Number(params.oauth_timestamp);
    if (!Number.isInteger(ts) || Math.abs(ts - now() / 1000) > skew) return err(401, 'UNAUTHORIZED');
    const nonce = params.oauth_nonce;
    if (!nonce || nonces.has(nonce)) return err(401, 'UNAUTHORIZED');
    if (!verifyOAuth1Signature('GET', `${serverUrl}/session`, params, creds)) return err(401, 'UNAUTHORIZED');
    nonces.set(nonce, ts);
    if (nonces.size > 100_000)
      for (const [n, t] of nonces) if (Math.abs(t - now() / 1000) > skew) nonces.delete(n);
    if (state.termsNotSigned) return err(403, 'T_C_NOT_SIGNED');
    const token = random('session-');
    sessions.set(token, now());
    sessionsIssued++;
    return ok({ auth_session_token: token });
  }

  function limitOf(body: Record<string, unknown>): number {
    const l = body.limit;
    return typeof l === 'number' && Number.isInteger(l) && l > 0 ? Math.min(l, MAX_LIMIT) : DEFAULT_LIMIT;
  }

  function lookupCursor(c: unknown): MockDepCursor | Answer {
    const cursor = typeof c === 'string' ? inv.cursors.get(c) : undefined;
    if (!cursor) return err(400, 'INVALID_CURSOR');
    if (now() - cursor.issuedAt > cursorTtl) return err(400, 'EXPIRED_CURSOR');
    return cursor;
  }

  function fetchDevices(body: Record<string, unknown>): Answer {
    let c: MockDepCursor;
    if (body.cursor === undefined) {
      c = { kind: 'fetch', position: 0, syncFrom: inv.changes.length, issuedAt: now(), done: false };
    } else {
      const found = lookupCursor(body.cursor);
      if ('status' in found) return found;
      if (found.kind !== 'fetch' || found.done) return err(400, 'EXHAUSTED_CURSOR');
      c = found;
    }
    const limit = limitOf(body);
    const devices: MockDepDevice[] = [];
    let pos = c.position;
    while (pos < inv.order.length && devices.length < limit) {
      const d = inv.devices.get(inv.order[pos++]!);
      if (d) devices.push(d);
    }
    while (pos < inv.order.length && !inv.devices.has(inv.order[pos]!)) pos++;
    const more = pos < inv.order.length;
    const cursor = inv.newCursor({
      kind: 'fetch',
      position: pos,
      syncFrom: c.syncFrom,
      issuedAt: now(),
      done: !more,
    });
    return ok({ cursor, more_to_follow: more, fetched_until: new Date(now()).toISOString(), devices });
  }

  function syncDevices(body: Record<string, unknown>): Answer {
    if (body.cursor === undefined || body.cursor === '') return err(400, 'CURSOR_REQUIRED');
    const found = lookupCursor(body.cursor);
    if ('status' in found) return found;
    const from = found.kind === 'fetch' ? found.syncFrom : found.position;
    const slice = inv.changes.slice(from, from + limitOf(body));
    const position = from + slice.length;
    const cursor = inv.newCursor({ kind: 'sync', position, issuedAt: now() });
    const devices = slice.map((ch) => ({ ...ch.device, op_type: ch.op_type, op_date: ch.op_date }));
    return ok({
      cursor,
      more_to_follow: position < inv.changes.length,
      fetched_until: new Date(now()).toISOString(),
      devices,
    });
  }

  function serials(body: Record<string, unknown>): string[] | Answer {
    const list = body.devices;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.length > MAX_LIMIT ||
      !list.every((s) => typeof s === 'string' && s)
    ) {
      return err(400, 'DEVICE_ID_REQUIRED');
    }
    return list as string[];
  }

  function assign(body: Record<string, unknown>): Answer {
    const uuid = body.profile_uuid;
    if (typeof uuid !== 'string' || !uuid) return err(400, 'PROFILE_UUID_REQUIRED');
    if (!inv.profiles.has(uuid)) return err(400, 'INVALID_PROFILE_UUID');
    const list = serials(body);
    if (!Array.isArray(list)) return list;
    return ok({ profile_uuid: uuid, devices: assignTo(uuid, list) });
  }

  function assignTo(uuid: string, list: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const s of list) {
      if (!inv.devices.has(s)) out[s] = 'NOT_ACCESSIBLE';
      else {
        inv.modify(s, {
          profile_uuid: uuid,
          profile_status: 'assigned',
          profile_assign_time: new Date(now()).toISOString(),
        });
        out[s] = 'SUCCESS';
      }
    }
    return out;
  }

  function route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): Answer {
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /account':
        return ok({
          server_name: opts.serverName ?? 'mdmkit mock MDM',
          server_uuid: '00000000-0000-4000-8000-000000000001',
          admin_id: 'admin@example.com',
          facilitator_id: 'admin@example.com',
          org_name: opts.orgName ?? 'Example Org',
          org_email: 'it@example.com',
          org_phone: '+1 555 0100',
          org_address: '1 Example Way',
          org_id: '1234567',
          org_id_hash: 'a1b2c3',
          org_type: 'org',
          org_version: 'v2',
          urls: [
            {
              uri: '/server/devices',
              http_method: ['POST'],
              limit: { default: DEFAULT_LIMIT, maximum: MAX_LIMIT },
            },
            {
              uri: '/devices/sync',
              http_method: ['POST'],
              limit: { default: DEFAULT_LIMIT, maximum: MAX_LIMIT },
            },
          ],
        });
      case 'POST /server/devices':
        return fetchDevices(body);
      case 'POST /devices/sync':
        return syncDevices(body);
      case 'POST /devices': {
        const list = serials(body);
        if (!Array.isArray(list)) return list;
        const devices: Record<string, unknown> = {};
        for (const s of list) {
          const d = inv.devices.get(s);
          devices[s] = d
            ? { ...d, response_status: 'SUCCESS' }
            : { serial_number: s, response_status: 'NOT_ACCESSIBLE' };
        }
        return ok({ devices });
      }
      case 'POST /devices/disown': {
        const list = serials(body);
        if (!Array.isArray(list)) return list;
        const devices: Record<string, string> = {};
        for (const s of list) devices[s] = inv.remove(s) ? 'SUCCESS' : 'NOT_ACCESSIBLE';
        return ok({ devices });
      }
      case 'POST /profile': {
        if (typeof body.profile_name !== 'string' || !body.profile_name)
          return err(400, 'CONFIG_NAME_REQUIRED');
        if (typeof body.url !== 'string' || !/^https?:\/\//.test(body.url))
          return err(400, 'CONFIG_URL_REQUIRED');
        const uuid = inv.newProfileUuid();
        const { devices: list, ...profile } = body;
        inv.profiles.set(uuid, { ...profile, profile_uuid: uuid });
        const assigned = Array.isArray(list)
          ? assignTo(
              uuid,
              list.filter((s): s is string => typeof s === 'string'),
            )
          : {};
        return ok({ profile_uuid: uuid, devices: assigned });
      }
      case 'GET /profile': {
        const p = inv.profiles.get(query.get('profile_uuid') ?? '');
        return p ? ok(p) : err(400, 'INVALID_PROFILE_UUID');
      }
      case 'PUT /profile/devices':
      case 'POST /profile/devices':
        return assign(body);
      case 'DELETE /profile/devices': {
        const list = serials(body);
        if (!Array.isArray(list)) return list;
        const devices: Record<string, string> = {};
        for (const s of list) {
          const d = inv.devices.get(s);
          if (!d?.profile_uuid) devices[s] = 'NOT_ACCESSIBLE';
          else {
            inv.clearProfile(s);
            devices[s] = 'SUCCESS';
          }
        }
        return ok({ devices });
      }
      case 'POST /device/activationlock': {
        const s = body.device;
        if (typeof s !== 'string' || !s) return err(400, 'DEVICE_ID_REQUIRED');
        return ok({ serial_number: s, response_status: inv.devices.has(s) ? 'SUCCESS' : 'DEVICE_NOT_FOUND' });
      }
      case 'GET /account-driven-enrollment/profile':
        return adeProfile ? ok({ mdm_service_discovery_url: adeProfile }) : err(404, 'NOT_FOUND');
      case 'POST /account-driven-enrollment/profile': {
        const u = body.mdm_service_discovery_url;
        if (typeof u !== 'string' || !/^https:\/\//.test(u)) return err(400, 'INVALID_URL');
        adeProfile = u;
        return { status: 200, text: '' };
      }
      case 'GET /os-beta-enrollment/tokens':
        return ok({ betaEnrollmentTokens: [{ title: 'macOS Beta', os: 'OSX', token: 'mock-beta-token' }] });
      default:
        return err(404, 'NOT_FOUND');
    }
  }

  function send(res: ServerResponse, a: Answer): void {
    const body = a.json !== undefined ? JSON.stringify(a.json) : (a.text ?? '');
    res.writeHead(a.status, {
      'content-type': a.json !== undefined ? 'application/json;charset=UTF8' : 'text/plain;charset=UTF8',
      'content-length': Buffer.byteLength(body),
      ...a.headers,
    });
    res.end(body);
  }

  function sendFault(res: ServerResponse, f: MockDepFault): number {
    switch (f.kind) {
      case 'html': {
        const status = f.status ?? 502;
        const html = `<!DOCTYPE html><html><head><title>${status}</title></head><body><h1>Bad Gateway</h1></body></html>`;
        res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(html) });
        res.end(html);
        return status;
      }
      case 'truncate': {
        const full = JSON.stringify({
          cursor: 'x',
          more_to_follow: false,
          devices: [{ serial_number: 'TRUNC' }],
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(full) });
        res.write(full.slice(0, full.length >> 1));
        setImmediate(() => res.socket?.destroy());
        return 200;
      }
      case 'body':
        send(res, { status: f.status ?? 200, text: f.body, headers: { 'content-type': 'application/json' } });
        return f.status ?? 200;
      case 'status':
        send(res, err(f.status, f.body ?? ''));
        return f.status;
      case 'hang':
        return 0;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://mock');
    const method = req.method ?? 'GET';
    const record: MockDepRequestRecord = {
      method,
      path: url.pathname,
      protocolVersion: req.headers['x-server-protocol-version'] as string | undefined,
      status: 0,
    };
    requests.push(record);
    if (requests.length > MAX_RECORDS) requests.splice(0, requests.length - MAX_RECORDS);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        record.status = 413;
        send(res, err(413, 'REQUEST_ENTITY_TOO_LARGE'));
        req.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const faultAt = faults.findIndex((f) => f.path === undefined || f.path === url.pathname);
    if (faultAt >= 0) {
      const { fault } = faults.splice(faultAt, 1)[0]!;
      record.status = sendFault(res, fault);
      return;
    }
    const t = throttles.shift();
    if (t) {
      record.status = t.status;
      send(res, {
        ...err(t.status, t.status === 429 ? 'TOO_MANY_REQUESTS' : 'SERVICE_UNAVAILABLE'),
        headers: { 'retry-after': String(t.retryAfter) },
      });
      return;
    }
    let answer: Answer;
    if (url.pathname === '/session' && method === 'GET') answer = session(req);
    else {
      answer =
        checkSession(req) ??
        (state.termsNotSigned ? err(403, 'T_C_NOT_SIGNED') : undefined) ??
        parseAndRoute();
    }
    record.status = answer.status;
    send(res, answer);

    function parseAndRoute(): Answer {
      let body: Record<string, unknown> = {};
      if (size > 0) {
        try {
          const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
            return err(400, 'MALFORMED_REQUEST_BODY');
          body = parsed as Record<string, unknown>;
        } catch {
          return err(400, 'MALFORMED_REQUEST_BODY');
        }
      }
      return route(method, url.pathname, url.searchParams, body);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, err(500, 'INTERNAL_ERROR'));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new TestkitError('LISTEN_FAILED', `mock DEP cannot listen: ${e.message}`, { cause: e })),
    );
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  serverUrl = `http://${host}:${addr.port}`;
  let closed = false;

  return {
    url: serverUrl,
    credentials: creds,
    inventory: inv,
    requests,
    get sessionsIssued() {
      return sessionsIssued;
    },
    get termsNotSigned() {
      return state.termsNotSigned;
    },
    set termsNotSigned(v: boolean) {
      state.termsNotSigned = v;
    },
    addDevice(serial, fields = {}) {
      const d = inv.makeDevice(serial, fields, inv.order.length);
      inv.add(d);
      return d;
    },
    modifyDevice(serial, fields) {
      const d = inv.modify(serial, fields);
      if (!d) throw new TestkitError('INVALID_OPTIONS', `no device ${serial}`);
      return d;
    },
    deleteDevice(serial) {
      if (!inv.remove(serial)) throw new TestkitError('INVALID_OPTIONS', `no device ${serial}`);
    },
    seed(count) {
      inv.seed(checkCount(count));
    },
    throttle(count, o = {}) {
      for (let i = 0; i < count; i++)
        throttles.push({ status: o.status ?? 429, retryAfter: o.retryAfterSeconds ?? 1 });
    },
    injectFault(fault, o = {}) {
      faults.push({ fault, path: o.path });
    },
    expireSessions() {
      for (const k of sessions.keys()) sessions.set(k, -Infinity);
    },
    expireCursors() {
      for (const c of inv.cursors.values()) c.issuedAt = -Infinity;
    },
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function checkCount(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 10_000_000)
    throw new TestkitError('INVALID_OPTIONS', 'device count must be an integer from 0 to 10 000 000');
  return n;
}
