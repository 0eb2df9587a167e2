import http2, {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type SecureClientSessionOptions,
} from 'node:http2';
import { ApnsError } from './errors';
import type { Job, Outcome } from './job';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM, HTTP2_HEADER_STATUS } =
  http2.constants;
const REQUEST_OPTIONS = { endStream: false } as const;

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
    job.attempts++;
    this.lastActivity = Date.now();
    let status = 0;
    let apnsId: string | undefined;
    let chunks: Buffer[] | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stream.close(NGHTTP2_CANCEL);
      // A silent peer may be dead: check the whole session rather than wait for every stream to time out.
      this.ping();
    }, this.cfg.requestTimeoutMs);
    const onData = (chunk: Buffer): void => {
      // Error bodies are tiny; refuse to buffer a hostile peer's stream without bound.
      if (!chunks) chunks = [chunk];
      else if (chunks.length < 16) chunks.push(chunk);
    };
    stream.on('response', (headers, flags) => {
      status = Number(headers[HTTP2_HEADER_STATUS]);
      const id = headers['apns-id'];
      apnsId = typeof id === 'string' ? id : undefined;
      // APNs ends a 200 on its HEADERS frame; not reading a stream that has no body spares work per push.
      if ((flags & NGHTTP2_FLAG_END_STREAM) === 0) stream.on('data', onData);
    });
    stream.on('error', noop);
    stream.on('close', () => {
      clearTimeout(timer);
      if (--this.active === 0) this.session.unref();
      this.lastActivity = Date.now();
      let outcome: Outcome;
      if (status > 0 && !timedOut) {
        const body = chunks ? Buffer.concat(chunks).toString('utf8') : '';
        // APNs answers Shutdown on a connection it is about to close: stop putting streams on it.
        if (status === 503 && body.includes('"Shutdown"')) this.markUnusable();
        outcome = { kind: 'answer', status, apnsId, body };
      } else if (timedOut) {
        outcome = {
          kind: 'failed',
          reason: 'Timeout',
          error: new ApnsError('TIMEOUT', `no answer from APNs within ${this.cfg.requestTimeoutMs} ms`),
        };
      } else if (this.wasUnprocessed(stream)) {
        outcome = { kind: 'unprocessed' };
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
    });
    stream.end(job.body);
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
    this.owner.onClosed(this, this.ready, this.error);
  }
}

function noop(): void {}
