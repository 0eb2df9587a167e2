import http2, { type OutgoingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';
import { type ResolvedRetry, backoffDelay, resolveRetry } from './backoff';
import type { ConnectFunction } from './connection';
import { type PushCredentials, type ResolvedCredentials, resolveCredentials } from './credentials';
import { type ApnsEnvironment, apnsOrigin } from './endpoints';
import { ApnsError } from './errors';
import { Job, type Outcome } from './job';
import { SessionPool } from './pool';
import { assertCertificateCurrent } from './push-certificate';
import { isTransientStatus } from './reasons';
import { CertificateSource, type PushCertStoreSource } from './store-source';
import type { LocalFailureReason, MdmPush, PushFailed, PushResult, RetryOptions } from './types';

/** Options of {@link ApnsClient}. */
export interface ApnsClientOptions {
  /** A fixed push certificate and key. Give either this or `store`. */
  credentials?: PushCredentials;
  /**
   * Load the certificate (and sealed key) from a `PushCertStore` and pick up renewals without a
   * restart. Give either this or `credentials`.
   */
  store?: PushCertStoreSource;
  /** Default `production`. */
  environment?: ApnsEnvironment;
  /** Use port 2197 instead of 443. */
  alternatePort?: boolean;
  /** Overrides environment and port entirely, e.g. a mock's `https://127.0.0.1:<port>`. */
  origin?: string;
  /** Opens the HTTP/2 session; default `http2.connect`. */
  connect?: ConnectFunction;
  /** CA certificates (PEM) to trust instead of the system's, e.g. a mock's CA. */
  ca?: string | string[];
  /**
   * `apns-topic` to send; default the certificate's topic. `null` sends none (APNs then uses the
   * certificate's topic).
   */
  topic?: string | null;
  /** `apns-push-type`; default `mdm`, `null` sends none. */
  pushType?: string | null;
  /** `apns-priority`; default 10, `null` sends none. */
  priority?: number | null;
  /**
   * `apns-expiration`: a `Date`, or seconds since the epoch (0 = deliver now or never). Sent only
   * when set.
   */
  expiration?: Date | number;
  /** Further headers sent with every push. */
  headers?: Record<string, string>;
  /** Give up waiting for one answer after this long. Default 10 000. */
  requestTimeoutMs?: number;
  /** Give up on a connection that has not completed TLS and SETTINGS after this long. Default 10 000. */
  connectTimeoutMs?: number;
  /** PING a session idle for this long, to find dead connections before a push does. Default 60 000; 0 = never. */
  pingIntervalMs?: number;
  /** Drop a session that does not answer a PING within this long. Default 10 000. */
  pingTimeoutMs?: number;
  /** Most sessions per certificate; more than one opens only when all are at the peer's stream limit. Default 4. */
  maxConnections?: number;
  /** Cap on streams per session below the peer's MAX_CONCURRENT_STREAMS. Default 1000. */
  maxStreamsPerConnection?: number;
  /** Retries of transient failures (429, 5xx, connection failures, timeouts). */
  retry?: RetryOptions;
  /** Default `concurrency` of {@link ApnsClient.pushMany}. Default 1000. */
  concurrency?: number;
}

/** Options of {@link ApnsClient.pushMany}. */
export interface PushManyOptions {
  /** Pushes in flight at once (including those waiting for a retry). Default: the client's `concurrency`. */
  concurrency?: number;
  /**
   * Called with each result as it arrives, before the iterator yields it. If it throws, no further
   * pushes are started; the pushes already started still finish, each result still goes to this
   * callback (and is yielded by {@link ApnsClient.pushMany}), then the iterator or the promise of
   * {@link ApnsClient.pushAll} rejects with the first error thrown.
   */
  onResult?: (result: PushResult) => void;
}

/** Totals of {@link ApnsClient.pushAll}. */
export interface PushSummary {
  total: number;
  delivered: number;
  failed: number;
  /** Failures by reason. */
  reasons: Record<string, number>;
}

const HEX = /^[0-9a-fA-F]+$/;

/**
 * Sends MDM wake-up pushes to APNs over HTTP/2 with certificate authentication.
 *
 * One long-lived session per certificate carries as many concurrent streams as APNs allows; more
 * sessions open only when that limit is reached. Transient failures are retried with jittered
 * exponential backoff; requests APNs never processed (refused, or above a GOAWAY's last stream id) are
 * re-sent at once; every push ends with exactly one {@link PushResult}.
 *
 * @example Sending one push
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { ApnsClient } from '@mdmkit/apns';
 *
 * const client = new ApnsClient({
 *   credentials: { certificate: readFileSync('push.pem', 'utf8'), privateKey: readFileSync('push.key', 'utf8') },
 * });
 * const result = await client.push({ token: device.pushToken, pushMagic: device.pushMagic });
 * if (!result.ok && result.reason === 'Unregistered') markUnreachable(device, result.timestamp);
 * await client.close();
 * ```
 *
 * @example Pushing to a fleet, results streamed as they arrive
 * ```ts
 * const client = new ApnsClient({ credentials, concurrency: 1000 });
 * for await (const r of client.pushMany(devices.map((d) => ({ token: d.token, pushMagic: d.pushMagic })))) {
 *   if (!r.ok && !r.transient) await markUnreachable(r.push.token, r.reason);
 * }
 * ```
 */
export class ApnsClient {
  private readonly origin: string;
  private readonly tls: SecureClientSessionOptions;
  private readonly retry: ResolvedRetry;
  private readonly source: CertificateSource;
  private readonly concurrency: number;
  private creds: ResolvedCredentials | undefined;
  private pool: SessionPool | undefined;
  private readonly oldPools = new Set<SessionPool>();
  private baseHeaders: OutgoingHttpHeaders = {};
  private notBeforeMs = 0;
  private notAfterMs = 0;
  private readonly retryTimers = new Map<Job, NodeJS.Timeout>();
  private unsettled = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly options: ApnsClientOptions) {
    if (!options.credentials === !options.store) {
      throw new ApnsError('INVALID_ARGUMENT', 'give exactly one of credentials and store');
    }
    this.origin =
      options.origin ?? apnsOrigin(options.environment ?? 'production', options.alternatePort ?? false);
    this.tls = options.ca ? { ca: options.ca } : {};
    this.retry = resolveRetry(options.retry);
    this.concurrency = positive(options.concurrency, 1000);
    this.source = new CertificateSource(options.store);
    if (options.credentials) {
      const creds = resolveCredentials(options.credentials);
      // An expired certificate is reported before any connection attempt.
      assertCertificateCurrent(creds.info);
      this.install(creds);
    }
  }

  /** The topic pushes are sent for, once credentials are loaded. */
  get topic(): string | undefined {
    return this.creds?.info.topic;
  }

  /** Open sessions, streams in flight and pushes waiting for a stream. */
  get stats(): { connections: number; inFlight: number; queued: number; pending: number } {
    return {
      connections: this.pool?.connectionCount ?? 0,
      inFlight: this.pool?.inFlight ?? 0,
      queued: this.pool?.queued ?? 0,
      pending: this.unsettled,
    };
  }

  /** Sends one push; resolves with its final result (never rejects). */
  push(push: MdmPush): Promise<PushResult> {
    return new Promise((resolve) => this.enqueue(push, resolve));
  }

  /** Starts one push; `done` is called exactly once with its final result. */
  private enqueue(push: MdmPush, done: (r: PushResult) => void): void {
    this.unsettled++;
    const invalid = this.validate(push);
    if (invalid) {
      this.finish(done, invalid);
      return;
    }
    if (!this.source.due()) {
      this.start(push, done);
      return;
    }
    this.source.refresh().then(
      (fresh) => {
        // Every push waiting on the same check gets the same object; install it once.
        if (fresh && fresh !== this.creds) this.install(fresh);
        this.start(push, done);
      },
      (e: unknown) => {
        if (!this.creds) {
          this.finish(done, failure(push, 'CertificateInvalid', toApnsError(e), 0, false));
        } else {
          // A store outage must not stop pushes with the certificate already loaded.
          this.start(push, done);
        }
      },
    );
  }

  private finish(done: (r: PushResult) => void, result: PushResult): void {
    if (--this.unsettled === 0) this.notifyIdle();
    done(result);
  }

  /**
   * Pushes to many devices with at most `concurrency` in flight, yielding each result as soon as it
   * is final (not in input order). Pulls from `pushes` lazily, so a database cursor works as input.
   * Stopping the iteration early stops pulling; pushes already in flight still complete.
   */
  async *pushMany(
    pushes: Iterable<MdmPush> | AsyncIterable<MdmPush>,
    options: PushManyOptions = {},
  ): AsyncGenerator<PushResult, void, undefined> {
    const limit = positive(options.concurrency, this.concurrency);
    const ready: PushResult[] = [];
    let readyHead = 0;
    let wake: (() => void) | undefined;
    let inflight = 0;
    let exhausted = false;
    let callbackFailed: { error: unknown } | undefined;
    const onResult = options.onResult;
    const asyncIt = Symbol.asyncIterator in pushes;
    const it = asyncIt
      ? (pushes as AsyncIterable<MdmPush>)[Symbol.asyncIterator]()
      : (pushes as Iterable<MdmPush>)[Symbol.iterator]();
    // Runs from a stream's event handler: an exception here would escape into the event loop and end
    // the process, so a throwing callback is caught and handed to the consumer of the iterator.
    const onDone = (r: PushResult): void => {
      inflight--;
      ready.push(r);
      if (onResult) {
        try {
          onResult(r);
        } catch (e) {
          callbackFailed ??= { error: e };
        }
      }
      const w = wake;
      wake = undefined;
      w?.();
    };
    try {
      while (true) {
        while (!exhausted && !callbackFailed && inflight < limit) {
          const next = asyncIt
            ? await (it as AsyncIterator<MdmPush>).next()
            : (it as Iterator<MdmPush>).next();
          if (next.done) {
            exhausted = true;
            break;
          }
          inflight++;
          this.enqueue(next.value, onDone);
        }
        if (readyHead < ready.length) {
          const r = ready[readyHead]!;
          ready[readyHead++] = undefined as unknown as PushResult;
          if (readyHead > 4096 && readyHead * 2 > ready.length) {
            ready.splice(0, readyHead);
            readyHead = 0;
          }
          yield r;
          continue;
        }
        if (inflight === 0) {
          // Pushes already started have all been yielded; now the callback's error reaches the caller.
          if (callbackFailed) throw callbackFailed.error;
          if (exhausted) return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      if (!exhausted) await it.return?.();
    }
  }

  /**
   * Pushes to every device like {@link ApnsClient.pushMany} and returns totals; use `onResult` for
   * per-device handling. Pushes are started straight from the result callbacks, without an async
   * iterator step per push. If `onResult` throws, no further pushes are pulled and the promise
   * rejects with that error once the pushes already started have their results.
   *
   * @example Waking a fleet and marking unreachable devices
   * ```ts
   * const summary = await client.pushAll(devices, {
   *   concurrency: 1000,
   *   onResult: (r) => {
   *     if (!r.ok && !r.transient) unreachable.push(r.push.token);
   *   },
   * });
   * console.log(`${summary.delivered}/${summary.total} delivered`, summary.reasons);
   * ```
   */
  pushAll(
    pushes: Iterable<MdmPush> | AsyncIterable<MdmPush>,
    options: PushManyOptions = {},
  ): Promise<PushSummary> {
    const summary: PushSummary = { total: 0, delivered: 0, failed: 0, reasons: {} };
    const limit = positive(options.concurrency, this.concurrency);
    const onResult = options.onResult;
    const asyncIt = Symbol.asyncIterator in pushes;
    const it = asyncIt
      ? (pushes as AsyncIterable<MdmPush>)[Symbol.asyncIterator]()
      : (pushes as Iterable<MdmPush>)[Symbol.iterator]();
    return new Promise<PushSummary>((resolve, reject) => {
      let inflight = 0;
      let exhausted = false;
      let pulling = false;
      let failedWith: { error: unknown } | undefined;
      const end = (): void => {
        if (!exhausted || inflight > 0) return;
        if (failedWith) reject(failedWith.error);
        else resolve(summary);
      };
      const stop = (e: unknown): void => {
        failedWith ??= { error: e };
        exhausted = true;
      };
      const done = (r: PushResult): void => {
        inflight--;
        summary.total++;
        if (r.ok) summary.delivered++;
        else {
          summary.failed++;
          summary.reasons[r.reason] = (summary.reasons[r.reason] ?? 0) + 1;
        }
        if (onResult) {
          try {
            onResult(r);
          } catch (e) {
            // Stop pulling; pushes already started still finish before the promise rejects.
            stop(e);
          }
        }
        if (!pulling) pump();
        else end();
      };
      const pumpSync = (): void => {
        pulling = true;
        try {
          while (!exhausted && inflight < limit) {
            const next = (it as Iterator<MdmPush>).next();
            if (next.done) exhausted = true;
            else {
              inflight++;
              this.enqueue(next.value, done);
            }
          }
        } catch (e) {
          stop(e);
        }
        pulling = false;
        end();
      };
      const pumpAsync = async (): Promise<void> => {
        pulling = true;
        try {
          while (!exhausted && inflight < limit) {
            const next = await (it as AsyncIterator<MdmPush>).next();
            if (next.done) exhausted = true;
            else {
              inflight++;
              this.enqueue(next.value, done);
            }
          }
        } catch (e) {
          stop(e);
        }
        pulling = false;
        end();
      };
      const pump = (): void => {
        if (asyncIt) void pumpAsync();
        else pumpSync();
      };
      pump();
    });
  }

  /** Checks the store for a renewed certificate now instead of at the next interval. */
  async reload(): Promise<boolean> {
    const fresh = await this.source.refresh(true);
    if (fresh && fresh !== this.creds) this.install(fresh);
    return fresh !== undefined;
  }

  /**
   * Stops accepting pushes, lets requests already sent finish (up to `requestTimeoutMs`), reports
   * everything else as `ClientClosed`, and closes the sessions.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [job, timer] of this.retryTimers) {
      clearTimeout(timer);
      this.settleJob(job, failure(job.push, 'ClientClosed', closedError(), job.attempts, true));
    }
    this.retryTimers.clear();
    const pools = [...this.oldPools, ...(this.pool ? [this.pool] : [])];
    for (const pool of pools) {
      for (const job of pool.takeQueued()) {
        this.settleJob(job, failure(job.push, 'ClientClosed', closedError(), job.attempts, true));
      }
      pool.drain();
    }
    if (this.unsettled > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, (this.options.requestTimeoutMs ?? 10_000) + 1000);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const pool of pools) pool.destroy();
  }

  private validate(push: MdmPush): PushFailed | undefined {
    if (this.closed) return failure(push, 'ClientClosed', closedError(), 0, false);
    if (!isHexToken(push?.token)) {
      return failure(
        push,
        'InvalidPush',
        new ApnsError('INVALID_ARGUMENT', 'the device token is not hex'),
        0,
        false,
      );
    }
    if (typeof push.pushMagic !== 'string' || push.pushMagic.length === 0) {
      return failure(
        push,
        'InvalidPush',
        new ApnsError('INVALID_ARGUMENT', 'the push magic is empty'),
        0,
        false,
      );
    }
    return undefined;
  }

  private start(push: MdmPush, settle: (r: PushResult) => void): void {
    const creds = this.creds;
    if (!creds || !this.pool) {
      this.finish(
        settle,
        failure(
          push,
          'CertificateInvalid',
          new ApnsError('NO_CERTIFICATE', 'no push certificate loaded'),
          0,
          false,
        ),
      );
      return;
    }
    const now = Date.now();
    if (now > this.notAfterMs || now < this.notBeforeMs) {
      try {
        assertCertificateCurrent(creds.info);
      } catch (e) {
        this.finish(settle, failure(push, 'CertificateInvalid', toApnsError(e), 0, false));
        return;
      }
    }
    const headers: OutgoingHttpHeaders = { ...this.baseHeaders };
    headers[':path'] = `/3/device/${push.token}`;
    if (push.id !== undefined) headers['apns-id'] = push.id;
    if (push.priority !== undefined) headers['apns-priority'] = String(push.priority);
    if (push.expiration !== undefined) headers['apns-expiration'] = expirationHeader(push.expiration);
    this.pool.submit(new Job(push, headers, mdmPayload(push.pushMagic), settle));
  }

  private install(creds: ResolvedCredentials): void {
    const previous = this.pool;
    this.creds = creds;
    const o = this.options;
    // ':path' first, so that every request's header object has the same shape.
    const headers: OutgoingHttpHeaders = { ':path': '', ':method': 'POST', ...o.headers };
    const topic = o.topic === undefined ? creds.info.topic : o.topic;
    if (topic !== null) headers['apns-topic'] = topic;
    const pushType = o.pushType === undefined ? 'mdm' : o.pushType;
    if (pushType !== null) headers['apns-push-type'] = pushType;
    const priority = o.priority === undefined ? 10 : o.priority;
    if (priority !== null) headers['apns-priority'] = String(priority);
    if (o.expiration !== undefined) headers['apns-expiration'] = expirationHeader(o.expiration);
    this.baseHeaders = headers;
    this.notBeforeMs = creds.info.notBefore.getTime();
    this.notAfterMs = creds.info.notAfter.getTime();
    this.pool = new SessionPool(
      {
        origin: this.origin,
        connect: o.connect ?? http2.connect,
        tls: {
          ...this.tls,
          cert: creds.certPem,
          key: creds.keyPem,
          settings: { enablePush: false },
        },
        maxConnections: positive(o.maxConnections, 4),
        maxStreams: positive(o.maxStreamsPerConnection, 1000),
        requestTimeoutMs: positive(o.requestTimeoutMs, 10_000),
        connectTimeoutMs: positive(o.connectTimeoutMs, 10_000),
        pingIntervalMs: o.pingIntervalMs ?? 60_000,
        pingTimeoutMs: positive(o.pingTimeoutMs, 10_000),
      },
      {
        onOutcome: (job, outcome) => this.onOutcome(job, outcome),
        onAnswer: (job, status, apnsId, body) => this.onAnswer(job, status, apnsId, body),
      },
    );
    if (previous) {
      // Pushes waiting for a stream move to the new certificate; those in flight finish on the old one.
      for (const job of previous.takeQueued()) this.pool.submit(job);
      previous.drain();
      this.oldPools.add(previous);
      setTimeout(() => {
        previous.destroy();
        this.oldPools.delete(previous);
      }, positive(o.requestTimeoutMs, 10_000) + 1000).unref();
    }
  }

  private onAnswer(job: Job, status: number, apnsId: string | undefined, body: string): void {
    if (job.settled) return;
    if (status === 200) {
      this.settleJob(job, {
        ok: true,
        push: job.push,
        status: 200,
        apnsId: apnsId ?? '',
        attempts: job.attempts,
      });
      return;
    }
    const transient = isTransientStatus(status);
    const parsed = parseErrorBody(body);
    if (transient && this.retryAllowed(job)) {
      this.scheduleRetry(job);
      return;
    }
    const result: PushFailed = {
      ok: false,
      push: job.push,
      status,
      reason: parsed.reason ?? `HTTP ${status}`,
      attempts: job.attempts,
      transient,
    };
    if (parsed.timestamp !== undefined) result.timestamp = new Date(parsed.timestamp);
    if (apnsId) result.apnsId = apnsId;
    this.settleJob(job, result);
  }

  private onOutcome(job: Job, outcome: Outcome): void {
    if (job.settled) return;
    if (outcome.kind === 'answer') {
      this.onAnswer(job, outcome.status, outcome.apnsId, outcome.body);
      return;
    }
    if (outcome.kind === 'unprocessed') {
      // Bounded, so that a peer refusing every stream cannot keep a push cycling forever.
      if (++job.unprocessed <= 10 && !this.closed && this.pool) {
        this.pool.submit(job);
        return;
      }
      this.settleJob(
        job,
        failure(
          job.push,
          this.closed ? 'ClientClosed' : 'ConnectionFailed',
          new ApnsError('CONNECTION_FAILED', 'APNs kept refusing the request'),
          job.attempts,
          true,
        ),
      );
      return;
    }
    if (this.retryAllowed(job)) {
      this.scheduleRetry(job);
      return;
    }
    this.settleJob(job, failure(job.push, outcome.reason, outcome.error, Math.max(1, job.attempts), true));
  }

  private retryAllowed(job: Job): boolean {
    return !this.closed && job.attempts < this.retry.maxAttempts;
  }

  private scheduleRetry(job: Job): void {
    const timer = setTimeout(
      () => {
        this.retryTimers.delete(job);
        if (this.closed || !this.pool) {
          this.settleJob(job, failure(job.push, 'ClientClosed', closedError(), job.attempts, true));
          return;
        }
        this.pool.submit(job);
      },
      backoffDelay(job.attempts, this.retry),
    );
    this.retryTimers.set(job, timer);
  }

  private settleJob(job: Job, result: PushResult): void {
    if (job.settled) return;
    job.settled = true;
    this.finish(job.settle, result);
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

function positive(v: number | undefined, fallback: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}

function expirationHeader(e: Date | number): string {
  return String(e instanceof Date ? Math.floor(e.getTime() / 1000) : Math.max(0, Math.floor(e)));
}

function closedError(): ApnsError {
  return new ApnsError('CLOSED', 'the APNs client was closed');
}

function toApnsError(e: unknown): ApnsError {
  return e instanceof ApnsError
    ? e
    : new ApnsError('NO_CERTIFICATE', 'the push certificate could not be loaded', { cause: e });
}

function failure(
  push: MdmPush,
  reason: LocalFailureReason,
  error: ApnsError,
  attempts: number,
  transient: boolean,
): PushFailed {
  return { ok: false, push, status: 0, reason, attempts, transient, error };
}

function parseErrorBody(body: string): { reason?: string; timestamp?: number } {
  if (!body) return {};
  try {
    const v = JSON.parse(body) as unknown;
    if (typeof v !== 'object' || v === null) return {};
    const o = v as Record<string, unknown>;
    const out: { reason?: string; timestamp?: number } = {};
    if (typeof o.reason === 'string' && o.reason.length <= 100) out.reason = o.reason;
    if (typeof o.timestamp === 'number' && Number.isFinite(o.timestamp)) out.timestamp = o.timestamp;
    return out;
  } catch {
    return {};
  }
}

// Push magic is a UUID string: printable ASCII without quote or backslash needs no JSON escaping.
const PLAIN_JSON_STRING = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/** The MDM payload `{"mdm":"<PushMagic>"}`, as JSON text. */
export function mdmPayload(pushMagic: string): string {
  return PLAIN_JSON_STRING.test(pushMagic)
    ? `{"mdm":"${pushMagic}"}`
    : `{"mdm":${JSON.stringify(pushMagic)}}`;
}

/** Whole bytes of hex, at most 200 (a linear check without a counted group). */
function isHexToken(t: unknown): boolean {
  return typeof t === 'string' && t.length > 0 && t.length <= 400 && (t.length & 1) === 0 && HEX.test(t);
}
