import type { IncomingHttpHeaders } from 'node:http2';

/** What the mock does with one request. Return it from {@link MockApnsBehavior.respond}. */
export type MockApnsReply =
  /** Answer 200 with an `apns-id` (the request's own, or a fresh one). */
  | { status: 200; delayMs?: number }
  /**
   * Answer with an APNs error. `status` defaults to the reason's documented status; a 410 carries
   * `timestamp` (milliseconds since the epoch, defaulting to now) like APNs does for `Unregistered`.
   */
  | { reason: string; status?: number; timestamp?: number; delayMs?: number }
  /** Never answer: the stream stays open until the client gives up or the mock closes. */
  | { hang: true }
  /** Destroy the connection's socket without a GOAWAY (in-flight streams are lost). */
  | { drop: true }
  /**
   * Send GOAWAY naming this request's stream as the last processed one, answer it normally, refuse
   * every later stream and close the connection once the processed ones are answered.
   */
  | { goaway: true; reason?: string };

/** One request as the mock received it. */
export interface MockApnsRequest {
  /** Sequence number across the whole mock, from 1. */
  seq: number;
  /** Id of the connection (from 1) and HTTP/2 stream it came on. */
  connectionId: number;
  streamId: number;
  method: string;
  path: string;
  /** The hex device token from `/3/device/<token>`, or `undefined` for another path. */
  token: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
  /** The subject UID (APNs topic) of the client certificate, when one was presented. */
  clientTopic: string | undefined;
  /** Serial number of the client certificate as lowercase hex of whole bytes (like `@mdmkit/crypto`), when one was presented. */
  clientSerial: string | undefined;
  /**
   * How the request ended: `answered` with `status`, `refused` (after a GOAWAY), `dropped` (its
   * connection was destroyed) or `pending` (not answered yet, or hanging).
   */
  outcome: 'pending' | 'answered' | 'refused' | 'dropped';
  status?: number;
  reason?: string;
  apnsId?: string;
}

/** Behaviour of the mock; every field may be changed at run time with {@link MockApns.configure}. */
export interface MockApnsBehavior {
  /** Delay before each answer, in milliseconds (number, or a function for jitter). Default 0. */
  latencyMs?: number | (() => number);
  /** Fraction (0..1) of otherwise-successful requests answered with one of `errorReasons`. Default 0. */
  errorRate?: number;
  /** Reasons used by `errorRate`. Default `['InternalServerError', 'ServiceUnavailable', 'TooManyRequests']`. */
  errorReasons?: string[];
  /** Seed of the generator behind `errorRate`, for reproducible runs. */
  seed?: number;
  /** Device tokens (lowercase hex) answered 410 `Unregistered`, mapped to the unregistration time. */
  unregistered?: Map<string, Date>;
  /** Send GOAWAY on a connection after this many requests were received on it. */
  goawayAfter?: number;
  /** Destroy a connection's socket after this many requests were received on it. */
  dropAfter?: number;
  /** Never answer any request. */
  hang?: boolean;
  /**
   * Decides a request's fate before the rules above; return `undefined` to fall through to them.
   * Runs after the request's body has arrived.
   */
  respond?: (request: MockApnsRequest) => MockApnsReply | undefined;
}

/** Options of {@link startMockApns}. */
export interface MockApnsOptions extends MockApnsBehavior {
  /** Server TLS key and certificate chain (PEM). The certificate should name 127.0.0.1 and/or localhost. */
  key: string | Uint8Array;
  cert: string | Uint8Array;
  /**
   * CA certificates (PEM) that client certificates must chain to. Without it any client certificate
   * is accepted, as long as one is presented.
   */
  clientCa?: string | string[];
  /**
   * Ask clients for a certificate and answer 403 `MissingProviderToken` without one. Default true;
   * turn it off for load tools that cannot present one.
   */
  requireClientCert?: boolean;
  /** SETTINGS_MAX_CONCURRENT_STREAMS announced to clients. Default 500. */
  maxConcurrentStreams?: number;
  /** Port on 127.0.0.1; default 0 (any free port). */
  port?: number;
  /**
   * Keep every request in {@link MockApns.requests}: `true` (default), `false` (counters only, for
   * benchmarks) or a number (keep at most that many, the oldest are dropped).
   */
  record?: boolean | number;
}

/** Counters kept even when recording is off. */
export interface MockApnsStats {
  connections: number;
  /** Requests whose stream was opened. */
  received: number;
  answered: number;
  refused: number;
  dropped: number;
  /** Answers by HTTP status. */
  byStatus: Record<number, number>;
}

/** A running mock APNs server. */
export interface MockApns {
  /** `https://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly port: number;
  /** Recorded requests, in arrival order (see {@link MockApnsOptions.record}). */
  readonly requests: MockApnsRequest[];
  readonly stats: MockApnsStats;
  /** Number of currently open HTTP/2 connections. */
  readonly openConnections: number;
  /** Changes behaviour for requests that arrive from now on. */
  configure(behavior: Partial<MockApnsBehavior>): void;
  /** Sends GOAWAY on every open connection now; `lastStreamId` defaults to the last stream received. */
  goawayAll(options?: { lastStreamId?: number; reason?: string }): void;
  /** Destroys every open connection's socket now. */
  dropAll(): void;
  /** Forgets recorded requests and counters. */
  reset(): void;
  /**
   * Registers what happens when a push to `token` is answered 200: the mock calls `deliver` (after
   * the answer is sent), the way APNs wakes a device. A virtual device registers
   * `() => device.receivePush()`, so "enqueue → push → device checks in" runs for real. Registering
   * again replaces; the returned function unregisters.
   */
  registerDevice(token: string, deliver: (request: MockApnsRequest) => unknown): () => void;
  /** Answered requests per device token. */
  answeredFor(token: string): MockApnsRequest[];
  close(): Promise<void>;
}
