import http2, {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type SecureClientSessionOptions,
} from 'node:http2';
import { ApnsError } from './errors';
import type { Job, Outcome } from './job';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM, HTTP2_HEADER_STATUS } =
  http2.constants;
const REQUEST_OPTIONS = { endStream: false } as const;
const kJob = Symbol('mdmkit.apns.job');
type JobStream = ClientHttp2Stream & { [kJob]: Job };

// Shared stream listeners (called with the stream as `this`), so that a request allocates no closures.
function onResponse(this: ClientHttp2Stream, headers: IncomingHttpHeaders, flags: number): void {
  const job = (this as JobStream)[kJob];
  job.status = Number(headers[HTTP2_HEADER_STATUS]);
  const id = headers['apns-id'];
  job.apnsId = typeof id === 'string' ? id : undefined;
  // APNs ends a 200 on its HEADERS frame; not reading a stream that has no body spares work per push.
  if ((flags & NGHTTP2_FLAG_END_STREAM) === 0) this.on('data', onData);
}

function onData(this: ClientHttp2Stream, chunk: Buffer): void {
  const job = (this as JobStream)[kJob];
  // Error bodies are tiny; refuse to buffer a hostile peer's stream without bound.
  if (!job.chunks) job.chunks = [chunk];
  else if (job.chunks.length < 16) job.chunks.push(chunk);
}

function onClose(this: ClientHttp2Stream): void {
  const job = (this as JobStream)[kJob];
  (job.conn as Connection).streamClosed(this, job);
}

/** Opens an HTTP/2 session; replaceable for tests or proxies. */
export type ConnectFunction = (origin: string, options: SecureClientSessionOptions) => ClientHttp2Session;

export interface ConnectionConfig {
  origin: string;
  connect: ConnectFunction;
  tls: SecureClientSessionOptions;
  maxStreams: number;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

export interface ConnectionOwner {
  onReady(conn: Connection): void;
  onCapacity(conn: Connection): void;
  onOutcome(conn: Connection, job: Job, outcome: Outcome): void;
  /** An HTTP answer (the common case, kept free of an outcome object). */
  onAnswer(conn: Connection, job: Job, status: number, apnsId: string | undefined, body: string): void;
  onClosed(conn: Connection, wasReady: boolean, error: Error | undefined): void;
}

/**
 * One HTTP/2 session to APNs. It becomes usable once the peer's SETTINGS arrived, so that the number
 * of streams it carries never exceeds what the peer allows; after a GOAWAY it takes no new streams and
 * reports streams above the peer's last processed stream id as unprocessed.
 */
export class Connection {
  readonly session: ClientHttp2Session;
  ready = false;
  /** True once the session may not take new streams (GOAWAY, error, close). */
  unusable = false;
  active = 0;
  capacity = 1;
  private goawayLastStreamId: number | undefined;
  private lastActivity = Date.now();
  private connectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Requests in flight, in the order sent (and so by deadline). */
  private readonly inflight = new Set<Job>();
  private pingInFlight = false;
  private error: ApnsError | undefined;
  private closedReported = false;

  constructor(
    private readonly cfg: ConnectionConfig,
    private readonly owner: ConnectionOwner,
  ) {
    let session: ClientHttp2Session;
    try {
      session = cfg.connect(cfg.origin, cfg.tls);
    } catch (e) {
      // A synchronous failure (bad key material, invalid origin) still has to come back as a closed
      // connection so that the waiting pushes get their results.
      const stub = { destroyed: true } as unknown as ClientHttp2Session;
      this.session = stub;
      this.unusable = true;
      this.error = new ApnsError('CONNECTION_FAILED', `cannot connect to ${cfg.origin}`, { cause: e });
      queueMicrotask(() => this.reportClosed());
      return;
    }
    this.session = session;
    this.connectTimer = setTimeout(() => {
      this.fail(new ApnsError('CONNECTION_FAILED', `no HTTP/2 SETTINGS from ${cfg.origin} in time`));
    }, cfg.connectTimeoutMs);
    session.on('remoteSettings', (settings) => {
      const peerMax = settings.maxConcurrentStreams ?? 0xffffffff;
      this.capacity = Math.max(1, Math.min(cfg.maxStreams, peerMax));
      if (!this.ready) {
        this.ready = true;
        clearTimeout(this.connectTimer);
        this.startPings();
        this.sweepTimer = setInterval(
          () => this.sweep(),
          Math.max(5, Math.min(1000, Math.floor(cfg.requestTimeoutMs / 10))),
        );
        this.sweepTimer.unref();
        this.owner.onReady(this);
        if (this.active === 0 && !this.session.destroyed) this.session.unref();
      } else {
        this.owner.onCapacity(this);
      }
    });
    session.on('goaway', (_code: number, lastStreamId: number) => {
      this.goawayLastStreamId = lastStreamId;
      this.markUnusable();
    });
    session.on('error', (e: Error) => {
      this.error ??= new ApnsError('CONNECTION_FAILED', `HTTP/2 session to ${cfg.origin} failed`, {
        cause: e,
      });
      this.markUnusable();
    });
    // The session keeps the process alive while it connects and while streams are active (pushes are
    // waiting for it); once idle it is unref'd, so that an idle client does not block exit.
    session.on('close', () => this.reportClosed());
  }

  /** Whether this connection can take one more stream now. */
  get available(): boolean {
    return this.ready && !this.unusable && this.active < this.capacity;
  }

  send(job: Job): void {
    let stream: ClientHttp2Stream;
    try {
      stream = this.session.request(job.headers, REQUEST_OPTIONS);
    } catch {
      // The session went away between the availability check and now: nothing was sent.
      this.markUnusable();
      this.owner.onOutcome(this, job, { kind: 'unprocessed' });
      return;
    }
    if (this.active++ === 0) this.session.ref();
    job.status = 0;
    job.apnsId = undefined;
    job.chunks = undefined;
    job.timedOut = false;
    job.stream = stream;
    job.conn = this;
    // Timeouts are checked by one sweeper per connection instead of a timer per request; all requests
    // share one timeout, so the set stays ordered by deadline.
    job.deadline = Date.now() + this.cfg.requestTimeoutMs;
    this.inflight.add(job);
    (stream as JobStream)[kJob] = job;
    stream.on('response', onResponse);
    stream.on('error', noop);
    stream.on('close', onClose);
    stream.end(job.body);
  }

  /** Called by the stream's 'close' handler. */
  streamClosed(stream: ClientHttp2Stream, job: Job): void {
    this.inflight.delete(job);
    job.stream = undefined;
    if (--this.active === 0) {
      this.session.unref();
      this.lastActivity = Date.now();
    }
    const status = job.status;
    if (status === 0 && !job.timedOut && this.wasUnprocessed(stream)) {
      // APNs provably never processed it: not an attempt, so it does not use up the retry budget.
      this.owner.onOutcome(this, job, { kind: 'unprocessed' });
      return;
    }
    job.attempts++;
    if (status > 0 && !job.timedOut) {
      if (status === 200) {
        this.owner.onAnswer(this, job, 200, job.apnsId, '');
        return;
      }
      const body = job.chunks ? Buffer.concat(job.chunks).toString('utf8') : '';
      job.chunks = undefined;
      // APNs answers Shutdown on a connection it is about to close: stop putting streams on it.
      if (status === 503 && body.includes('"Shutdown"')) this.markUnusable();
      this.owner.onAnswer(this, job, status, job.apnsId, body);
      return;
    }
    let outcome: Outcome;
    if (job.timedOut) {
      outcome = {
        kind: 'failed',
        reason: 'Timeout',
        error: new ApnsError('TIMEOUT', `no answer from APNs within ${this.cfg.requestTimeoutMs} ms`),
      };
    } else {
      outcome = {
        kind: 'failed',
        reason: 'ConnectionFailed',
        error:
          this.error ??
          new ApnsError('CONNECTION_FAILED', `stream reset by peer (code ${stream.rstCode ?? '?'})`),
      };
    }
    this.owner.onOutcome(this, job, outcome);
  }

  private sweep(): void {
    if (this.inflight.size === 0) return;
    const now = Date.now();
    let expired = false;
    for (const job of this.inflight) {
      if (job.deadline > now) break;
      this.inflight.delete(job);
      job.timedOut = true;
      expired = true;
      job.stream?.close(NGHTTP2_CANCEL);
    }
    // A silent peer may be dead: check the whole session rather than wait for every stream to time out.
    if (expired) this.ping();
  }

  /** Stops taking streams and closes once the active ones are done. */
  drain(): void {
    this.markUnusable();
    if (!this.session.destroyed && !this.session.closed) this.session.close();
  }

  destroy(): void {
    this.markUnusable();
    this.hardClose();
  }

  /**
   * Destroys the session and reports it closed even when node does not emit 'close' (it does not for
   * a session closed while still connecting).
   */
  private hardClose(): void {
    if (!this.session.destroyed) this.session.destroy();
    setImmediate(() => this.reportClosed());
  }

  private wasUnprocessed(stream: ClientHttp2Stream): boolean {
    if (stream.rstCode === NGHTTP2_REFUSED_STREAM) return true;
    const id = stream.id;
    if (id === undefined) return true;
    return this.goawayLastStreamId !== undefined && id > this.goawayLastStreamId;
  }

  private markUnusable(): void {
    if (this.unusable) return;
    this.unusable = true;
    clearTimeout(this.connectTimer);
    clearInterval(this.pingTimer);
    if (!this.ready) {
      this.hardClose();
      return;
    }
    // Let streams that were processed finish; the session closes by itself once they are done.
    if (!this.session.destroyed && !this.session.closed) {
      try {
        this.session.close();
      } catch {
        // already closing
      }
    }
  }

  private fail(error: ApnsError): void {
    this.error ??= error;
    this.markUnusable();
    this.hardClose();
  }

  private startPings(): void {
    if (this.cfg.pingIntervalMs <= 0) return;
    this.pingTimer = setInterval(() => {
      if (this.active === 0 && Date.now() - this.lastActivity >= this.cfg.pingIntervalMs) this.ping();
    }, this.cfg.pingIntervalMs);
    this.pingTimer.unref();
  }

  private ping(): void {
    if (this.pingInFlight || this.unusable || this.session.destroyed) return;
    this.pingInFlight = true;
    const timer = setTimeout(() => {
      this.fail(new ApnsError('CONNECTION_FAILED', `no PING answer from ${this.cfg.origin} in time`));
    }, this.cfg.pingTimeoutMs);
    timer.unref();
    try {
      this.session.ping((err) => {
        clearTimeout(timer);
        this.pingInFlight = false;
        if (err) this.fail(new ApnsError('CONNECTION_FAILED', 'PING failed', { cause: err }));
        else this.lastActivity = Date.now();
      });
    } catch {
      clearTimeout(timer);
      this.pingInFlight = false;
    }
  }

  private reportClosed(): void {
    if (this.closedReported) return;
    this.closedReported = true;
    this.unusable = true;
    clearTimeout(this.connectTimer);
    clearInterval(this.pingTimer);
    clearInterval(this.sweepTimer);
    this.owner.onClosed(this, this.ready, this.error);
  }
}

function noop(): void {}
