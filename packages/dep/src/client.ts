// The DEP API client: OAuth session, headers, re-authentication, retries and typed bodies.
import { Pool, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { type Clock, systemClock } from './clock';
import { DepError, type DepErrorCode } from './errors';
import { type OAuth1Credentials, oauth1Header } from '@mdmkit/crypto';
import { backoffDelay, DEFAULT_RETRY, parseRetryAfter, type RetryPolicy } from './retry';
import {
  type AccountDrivenProfile,
  accountDrivenProfileSchema,
  type ActivationLockRequest,
  activationLockRequestSchema,
  type ActivationLockResponse,
  activationLockResponseSchema,
  type AssignProfileResponse,
  assignProfileResponseSchema,
  accountSchema,
  type BetaEnrollmentTokens,
  betaTokensResponseSchema,
  type DefineProfileResponse,
  defineProfileResponseSchema,
  type DepAccount,
  type DeviceDetailsResponse,
  deviceDetailsResponseSchema,
  type DeviceListResponse,
  deviceListResponseSchema,
  type DisownResponse,
  disownResponseSchema,
  type EnrollmentProfile,
  enrollmentProfileSchema,
  profileResponseSchema,
  type RemoveProfileResponse,
  removeProfileResponseSchema,
  sessionResponseSchema,
} from './schemas';

/** Apple's DEP API. */
export const DEFAULT_DEP_BASE_URL = 'https://mdmenrollment.apple.com';
/** The `X-Server-Protocol-Version` the client speaks. */
export const DEP_PROTOCOL_VERSION = '3';
/** Apple's per-request device limit on fetch and sync. */
export const MAX_DEVICE_LIMIT = 1000;

/** Options of {@link DepClient}. */
export interface DepClientOptions {
  /** OAuth credentials from the decrypted server token. */
  token: OAuth1Credentials;
  /** Default Apple's; point it at the mock or a proxy per token. */
  baseUrl?: string;
  /** An undici dispatcher to use instead of the client's own keep-alive pool. Not closed by `close()`. */
  dispatcher?: Dispatcher;
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
  /** Per-request deadline, ms: the whole answer (headers and body) must arrive within it. Default 60 000. */
  timeoutMs?: number;
  /** Largest response body accepted. Default 16 MiB (a page of 1000 devices is well under 1 MiB). */
  maxResponseBytes?: number;
  /** Sent as User-Agent. Default `mdmkit-dep/0.1`. */
  userAgent?: string;
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const LONE_SURROGATE = /\p{Cs}/u;

const pools = new Map<string, { pool: Pool; users: number }>();

function header(h: RawAnswer['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The Apple error word in a body (`"INVALID_CURSOR"`, `INVALID_CURSOR`, or JSON with it). */
export function appleErrorWord(body: string): string | undefined {
  return /\b([A-Z][A-Z_]{2,63})\b/.exec(body.slice(0, 512))?.[1];
}

/**
 * A client for one ABM server token. Keeps one session and one keep-alive connection pool per base
 * URL; gets a new session transparently on 401 and on 403 `FORBIDDEN`, replaying the request once;
 * waits out 429/503 within bounded retries. Every method returns a promise; bad arguments reject it
 * with a {@link DepError} (`INVALID_INPUT`, `CURSOR_REQUIRED`) before anything is sent.
 *
 * @example
 * ```ts
 * import { DepClient } from '@mdmkit/dep';
 * const client = new DepClient({ token, baseUrl: mockDep.url });
 * const account = await client.getAccount();
 * const page = await client.fetchDevices({ limit: 500 });
 * await client.close();
 * ```
 */
export class DepClient {
  readonly baseUrl: string;
  readonly #token: OAuth1Credentials;
  readonly #dispatcher: Dispatcher;
  readonly #ownsPool: boolean;
  readonly #retry: RetryPolicy;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #maxBytes: number;
  readonly #userAgent: string;
  readonly #basePath: string;
  readonly #timeoutMs: number;
  #session: string | undefined;
  #sessionPending: Promise<string> | undefined;
  #closed = false;
  /** Sessions opened so far (for monitoring and tests). */
  sessionsOpened = 0;

  constructor(opts: DepClientOptions) {
    const t = opts.token;
    for (const k of ['consumerKey', 'consumerSecret', 'accessToken', 'accessSecret'] as const) {
      if (typeof t?.[k] !== 'string' || t[k].length === 0)
        throw new DepError('INVALID_INPUT', `token.${k} is missing`);
      // OAuth percent-encodes it as UTF-8, which a lone surrogate has no form in.
      if (LONE_SURROGATE.test(t[k])) throw new DepError('INVALID_INPUT', `token.${k} is not valid text`);
    }
    this.#token = t;
    let url: URL;
    try {
      url = new URL(opts.baseUrl ?? DEFAULT_DEP_BASE_URL);
    } catch (e) {
      throw new DepError('INVALID_INPUT', 'baseUrl is not a URL', { cause: e });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new DepError('INVALID_INPUT', 'baseUrl must be http(s)');
    this.baseUrl = url.href.replace(/\/$/, '');
    this.#basePath = url.pathname.replace(/\/$/, '');
    const timeout = opts.timeoutMs ?? 60_000;
    if (!Number.isFinite(timeout) || timeout <= 0)
      throw new DepError('INVALID_INPUT', 'timeoutMs must be a positive number');
    this.#timeoutMs = timeout;
    if (opts.dispatcher) {
      this.#dispatcher = opts.dispatcher;
      this.#ownsPool = false;
    } else {
      let shared = pools.get(url.origin);
      if (!shared) {
        shared = {
          pool: new Pool(url.origin, {
            connections: 8,
            headersTimeout: timeout,
            bodyTimeout: timeout,
            keepAliveTimeout: 30_000,
          }),
          users: 0,
        };
        pools.set(url.origin, shared);
      }
      shared.users++;
      this.#dispatcher = shared.pool;
      this.#ownsPool = true;
    }
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#maxBytes = opts.maxResponseBytes ?? 16 * 1024 * 1024;
    this.#userAgent = opts.userAgent ?? 'mdmkit-dep/0.1';
  }

  /** Releases this client's share of the connection pool. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#ownsPool) return;
    const origin = new URL(this.baseUrl).origin;
    const shared = pools.get(origin);
    if (shared && --shared.users === 0) {
      pools.delete(origin);
      await shared.pool.close();
    }
  }

  /** `GET /account`: the MDM server and organisation this token belongs to. */
  async getAccount(): Promise<DepAccount> {
    return this.#call('GET', '/account', undefined, accountSchema, true);
  }

  /** `POST /server/devices`: one page of every device assigned to this server; start without a cursor. */
  async fetchDevices(opts: { cursor?: string; limit?: number } = {}): Promise<DeviceListResponse> {
    return this.#call('POST', '/server/devices', cursorBody(opts), deviceListResponseSchema, true);
  }

  /** `POST /devices/sync`: changes since `cursor` (from a fetch or an earlier sync), with op_type. */
  async syncDevices(opts: { cursor: string; limit?: number }): Promise<DeviceListResponse> {
    if (typeof opts?.cursor !== 'string' || opts.cursor.length === 0)
      throw new DepError('CURSOR_REQUIRED', 'syncDevices needs the cursor of a fetch or sync');
    return this.#call('POST', '/devices/sync', cursorBody(opts), deviceListResponseSchema, true);
  }

  /** `POST /devices`: details of up to 1000 devices, each with its own `response_status`. */
  async getDeviceDetails(serials: readonly string[]): Promise<DeviceDetailsResponse> {
    return this.#call(
      'POST',
      '/devices',
      { devices: serialList(serials) },
      deviceDetailsResponseSchema,
      true,
    );
  }

  /** `POST /devices/disown`: releases devices from the organisation (irreversible at Apple). */
  async disownDevices(serials: readonly string[]): Promise<DisownResponse> {
    return this.#call(
      'POST',
      '/devices/disown',
      { devices: serialList(serials) },
      disownResponseSchema,
      false,
    );
  }

  /** `POST /profile`: defines an enrollment profile; returns its UUID and per-device statuses. */
  async defineProfile(profile: EnrollmentProfile): Promise<DefineProfileResponse> {
    return this.#call(
      'POST',
      '/profile',
      build(enrollmentProfileSchema, profile, 'profile'),
      defineProfileResponseSchema,
      false,
    );
  }

  /** `GET /profile?profile_uuid=…`. */
  async getProfile(profileUuid: string): Promise<EnrollmentProfile & { profile_uuid?: string }> {
    if (typeof profileUuid !== 'string' || profileUuid.length === 0)
      throw new DepError('INVALID_INPUT', 'profileUuid is required');
    return this.#call(
      'GET',
      `/profile?profile_uuid=${encodeURIComponent(profileUuid)}`,
      undefined,
      profileResponseSchema,
      true,
    );
  }

  /**
   * `PUT /profile/devices`: assigns a profile to up to 1000 devices. The answer maps each serial
   * number to Apple's status (`SUCCESS`, `NOT_ACCESSIBLE`, `FAILED`, `THROTTLED`).
   *
   * @example
   * ```ts
   * const { devices } = await client.assignProfile(profileUuid, ['C02XXXXXXXXX']);
   * if (devices['C02XXXXXXXXX'] !== 'SUCCESS') console.log('not assigned:', devices);
   * ```
   */
  async assignProfile(profileUuid: string, serials: readonly string[]): Promise<AssignProfileResponse> {
    if (typeof profileUuid !== 'string' || profileUuid.length === 0)
      throw new DepError('INVALID_INPUT', 'profileUuid is required');
    return this.#call(
      'PUT',
      '/profile/devices',
      { profile_uuid: profileUuid, devices: serialList(serials) },
      assignProfileResponseSchema,
      true,
    );
  }

  /** `DELETE /profile/devices`: removes whatever profile the devices have. */
  async removeProfile(serials: readonly string[]): Promise<RemoveProfileResponse> {
    return this.#call(
      'DELETE',
      '/profile/devices',
      { devices: serialList(serials) },
      removeProfileResponseSchema,
      true,
    );
  }

  /** `POST /device/activationlock`: escrows an activation-lock bypass for a supervised device. */
  async activationLock(req: ActivationLockRequest): Promise<ActivationLockResponse> {
    return this.#call(
      'POST',
      '/device/activationlock',
      build(activationLockRequestSchema, req, 'request'),
      activationLockResponseSchema,
      false,
    );
  }

  /** `POST /account-driven-enrollment/profile`: sets the service-discovery URL for account-driven enrollment. */
  async setAccountDrivenEnrollmentProfile(url: string): Promise<void> {
    const body = build(accountDrivenProfileSchema, { mdm_service_discovery_url: url }, 'profile');
    await this.#call('POST', '/account-driven-enrollment/profile', body, undefined, false);
  }

  /** `GET /account-driven-enrollment/profile`. */
  async getAccountDrivenEnrollmentProfile(): Promise<AccountDrivenProfile> {
    return this.#call(
      'GET',
      '/account-driven-enrollment/profile',
      undefined,
      accountDrivenProfileSchema,
      true,
    );
  }

  /** `GET /os-beta-enrollment/tokens`: AppleSeed beta enrollment tokens of the organisation. */
  async getOsBetaEnrollmentTokens(): Promise<BetaEnrollmentTokens> {
    return this.#call('GET', '/os-beta-enrollment/tokens', undefined, betaTokensResponseSchema, true);
  }

  /** Forgets the current session so the next call opens a new one. */
  resetSession(): void {
    this.#session = undefined;
  }

  async #openSession(): Promise<string> {
    if (this.#session) return this.#session;
    this.#sessionPending ??= (async () => {
      try {
        const url = `${this.baseUrl}/session`;
        const auth = oauth1Header('GET', url, this.#token, {
          timestamp: Math.floor(this.#clock.now() / 1000),
        });
        const answer = await this.#send('GET', '/session', undefined, { authorization: auth }, true);
        if (answer.status !== 200) throw answerError(answer);
        const { auth_session_token } = parseBody(answer, sessionResponseSchema);
        this.#session = auth_session_token;
        this.sessionsOpened++;
        return auth_session_token;
      } finally {
        this.#sessionPending = undefined;
      }
    })();
    return this.#sessionPending;
  }

  async #call<T>(
    method: string,
    path: string,
    body: unknown,
    schema: z.ZodType<T> | undefined,
    idempotent: boolean,
  ): Promise<T> {
    if (this.#closed) throw new DepError('INVALID_INPUT', 'the client is closed');
    const json = body === undefined ? undefined : JSON.stringify(body);
    let reauthenticated = false;
    for (;;) {
      const session = await this.#openSession();
      const answer = await this.#send(method, path, json, { 'x-adm-auth-session': session }, idempotent);
      const renewed = header(answer.headers, 'x-adm-auth-session');
      if (renewed) this.#session = renewed;
      const word = appleErrorWord(answer.body);
      const stale = answer.status === 401 || (answer.status === 403 && word === 'FORBIDDEN');
      if (stale && !reauthenticated) {
        if (this.#session === session) this.#session = undefined;
        reauthenticated = true;
        continue;
      }
      if (answer.status < 200 || answer.status > 299) throw answerError(answer);
      return schema ? parseBody(answer, schema) : (undefined as T);
    }
  }

  /** One request with the 429/503 and connection-failure retries. */
  async #send(
    method: string,
    path: string,
    body: string | undefined,
    extra: Record<string, string>,
    idempotent: boolean,
  ): Promise<RawAnswer> {
    const headers: Record<string, string> = {
      'x-server-protocol-version': DEP_PROTOCOL_VERSION,
      'user-agent': this.#userAgent,
      accept: 'application/json',
      ...extra,
    };
    if (body !== undefined) headers['content-type'] = 'application/json;charset=UTF8';
    for (let attempt = 0; ; attempt++) {
      let answer: RawAnswer;
      try {
        answer = await this.#once(method, this.#basePath + path, headers, body);
      } catch (e) {
        if (e instanceof DepError && e.code !== 'NETWORK') throw e;
        if (!idempotent || attempt >= this.#retry.maxRetries) {
          throw e instanceof DepError
            ? e
            : new DepError('NETWORK', `${method} ${path} failed: ${(e as Error).message}`, { cause: e });
        }
        await this.#clock.sleep(backoffDelay(attempt, this.#retry, this.#random));
        continue;
      }
      if (answer.status !== 429 && answer.status !== 503) return answer;
      if (attempt >= this.#retry.maxRetries) {
        throw new DepError(
          'RATE_LIMITED',
          `${method} ${path}: ${answer.status} after ${attempt + 1} attempts`,
          {
            status: answer.status,
            body: answer.body.slice(0, 512),
          },
        );
      }
      const after = parseRetryAfter(header(answer.headers, 'retry-after'), this.#clock.now());
      await this.#clock.sleep(backoffDelay(attempt, this.#retry, this.#random, after));
    }
  }

  async #once(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<RawAnswer> {
    // One deadline for the whole answer: undici's bodyTimeout only bounds the gap between two chunks,
    // so a server trickling bytes could otherwise hold a call for hours; and a shared pool carries the
    // timeouts of whichever client created it.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.#timeoutMs);
    const late = (e: unknown): DepError =>
      new DepError('NETWORK', `${method} ${path}: no complete answer within ${this.#timeoutMs} ms`, {
        cause: e,
      });
    try {
      let res: Dispatcher.ResponseData;
      try {
        res = await this.#dispatcher.request({
          origin: new URL(this.baseUrl).origin,
          path,
          method: method as Dispatcher.HttpMethod,
          headers,
          signal: deadline.signal,
          ...(body !== undefined && { body }),
        });
      } catch (e) {
        if (deadline.signal.aborted) throw late(e);
        throw new DepError('NETWORK', `${method} ${path}: ${(e as Error).message}`, { cause: e });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of res.body) {
          size += (chunk as Buffer).length;
          if (size > this.#maxBytes) {
            res.body.destroy();
            throw new DepError(
              'INVALID_RESPONSE',
              `${method} ${path}: response larger than ${this.#maxBytes} bytes`,
              { status: res.statusCode },
            );
          }
          chunks.push(chunk as Buffer);
        }
      } catch (e) {
        if (e instanceof DepError) throw e;
        if (deadline.signal.aborted) throw late(e);
        // The answer started but broke off: a truncated response, not something to replay blindly.
        throw new DepError('INVALID_RESPONSE', `${method} ${path}: response body cut short`, {
          cause: e,
          status: res.statusCode,
        });
      }
      return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
    } finally {
      clearTimeout(timer);
    }
  }
}

function cursorBody(opts: {
  cursor?: string | undefined;
  limit?: number | undefined;
}): Record<string, unknown> {
  if (typeof opts !== 'object' || opts === null)
    throw new DepError('INVALID_INPUT', 'options must be an object with cursor and limit');
  const out: Record<string, unknown> = {};
  if (opts.cursor !== undefined) {
    if (typeof opts.cursor !== 'string' || opts.cursor.length === 0)
      throw new DepError('INVALID_INPUT', 'cursor must be a non-empty string');
    out.cursor = opts.cursor;
  }
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_DEVICE_LIMIT) {
      throw new DepError('INVALID_INPUT', `limit must be an integer from 1 to ${MAX_DEVICE_LIMIT}`);
    }
    out.limit = opts.limit;
  }
  return out;
}

function serialList(serials: readonly string[]): string[] {
  if (!Array.isArray(serials) || serials.length === 0 || serials.length > MAX_DEVICE_LIMIT) {
    throw new DepError('INVALID_INPUT', `give 1 to ${MAX_DEVICE_LIMIT} serial numbers`);
  }
  for (const s of serials) {
    if (typeof s !== 'string' || s.length === 0 || s.length > 64)
      throw new DepError('INVALID_INPUT', 'serial numbers are 1 to 64 characters');
  }
  return [...serials];
}

function build<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const where = r.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`).join('; ');
    throw new DepError('INVALID_INPUT', `invalid ${what}: ${where}`, { cause: r.error });
  }
  return r.data;
}

function parseBody<T>(answer: RawAnswer, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch (e) {
    const type = header(answer.headers, 'content-type') ?? 'no content type';
    throw new DepError('INVALID_RESPONSE', `expected JSON, got ${type} (${answer.body.length} bytes)`, {
      cause: e,
      status: answer.status,
      body: answer.body.slice(0, 512),
    });
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const where = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new DepError('INVALID_RESPONSE', `unexpected response shape: ${where}`, {
      cause: r.error,
      status: answer.status,
    });
  }
  return r.data;
}

const WORD_CODES: Record<string, DepErrorCode> = {
  T_C_NOT_SIGNED: 'TERMS_NOT_SIGNED',
  EXHAUSTED_CURSOR: 'CURSOR_EXHAUSTED',
  INVALID_CURSOR: 'CURSOR_INVALID',
  EXPIRED_CURSOR: 'CURSOR_EXPIRED',
  CURSOR_REQUIRED: 'CURSOR_REQUIRED',
};

function answerError(answer: RawAnswer): DepError {
  const word = appleErrorWord(answer.body);
  const snippet = answer.body.slice(0, 512);
  const mapped = word ? WORD_CODES[word] : undefined;
  const code: DepErrorCode =
    mapped ??
    (answer.status === 401
      ? 'UNAUTHORIZED'
      : answer.status === 403
        ? word === 'FORBIDDEN'
          ? 'UNAUTHORIZED'
          : 'FORBIDDEN'
        : 'HTTP_ERROR');
  const what =
    code === 'TERMS_NOT_SIGNED'
      ? 'the organisation must accept new terms in Apple Business Manager'
      : `${answer.status}${word ? ` ${word}` : ''}`;
  return new DepError(code, `DEP API: ${what}`, { status: answer.status, body: snippet });
}
