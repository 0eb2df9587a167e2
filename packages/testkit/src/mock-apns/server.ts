import { randomUUID } from 'node:crypto';
import http2, {
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { TestkitError } from '../errors';
import { APNS_REASON_STATUS } from './reasons';
import type {
  MockApns,
  MockApnsBehavior,
  MockApnsOptions,
  MockApnsReply,
  MockApnsRequest,
  MockApnsStats,
} from './types';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_NO_ERROR } = http2.constants;
const TOKEN_PATH = /^\/3\/device\/([0-9A-Fa-f]+)$/;
const MAX_PAYLOAD = 4096;
const PRIORITIES = new Set(['1', '5', '10']);
const EXPIRATION = /^\d+$/;
/** The plain success reply, shared. */
const OK: AnswerReply = { status: 200 };
/** The replies that end in an HTTP answer. */
type AnswerReply = Exclude<MockApnsReply, { hang: true } | { drop: true } | { goaway: true }>;
const kCtx = Symbol('mdmkit.mock-apns.stream');

/** What the server keeps per open stream, reached from shared listeners through the stream. */
interface StreamCtx {
  state: ConnState;
  record: MockApnsRequest;
  ordinal: number;
  size: number;
  /** Body chunks, kept only when the body is needed (recording or a `respond` hook). */
  chunks: Buffer[] | undefined;
  onClose: (stream: ServerHttp2Stream, ctx: StreamCtx) => void;
  onEnd: (stream: ServerHttp2Stream, ctx: StreamCtx) => void;
}
type CtxStream = ServerHttp2Stream & { [kCtx]: StreamCtx };

// Shared stream listeners (the stream is `this`), so that a request allocates no closures.
function streamData(this: ServerHttp2Stream, chunk: Buffer): void {
  const ctx = (this as CtxStream)[kCtx];
  ctx.size += chunk.length;
  if (ctx.chunks && ctx.size <= MAX_PAYLOAD + 1) ctx.chunks.push(chunk);
}
function streamEnd(this: ServerHttp2Stream): void {
  const ctx = (this as CtxStream)[kCtx];
  ctx.onEnd(this, ctx);
}
function streamClose(this: ServerHttp2Stream): void {
  const ctx = (this as CtxStream)[kCtx];
  ctx.onClose(this, ctx);
}
function ignore(): void {}

/** Wakes a registered device; what it does with the push is its own business, never the mock's. */
function runDelivery(deliver: (request: MockApnsRequest) => unknown, record: MockApnsRequest): void {
  try {
    const r = deliver(record);
    if (r instanceof Promise) r.catch(ignore);
  } catch {
    // A device that fails to wake does not stop the mock.
  }
}

/**
 * apns-id values: one random UUID, its last 12 hex digits replaced by a counter. Unique per server
 * like APNs' own, without a random UUID per request.
 */
function apnsIdSource(): () => string {
  const prefix = randomUUID().toUpperCase().slice(0, 24);
  let n = 0;
  return () => {
    n = (n + 1) % 0x1000000000000;
    return prefix + n.toString(16).toUpperCase().padStart(12, '0');
  };
}

interface ConnState {
  id: number;
  session: ServerHttp2Session;
  /** The TLS socket under the session, to simulate a silent drop (no GOAWAY). */
  raw: Socket | undefined;
  received: number;
  lastStreamId: number;
  /** Set once a GOAWAY went out: streams above it are refused. */
  goawayLastStreamId: number | undefined;
  inflight: Map<number, { stream: ServerHttp2Stream; record: MockApnsRequest }>;
  clientTopic: string | undefined;
  clientSerial: string | undefined;
  hasClientCert: boolean;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function emptyStats(): MockApnsStats {
  return { connections: 0, received: 0, answered: 0, refused: 0, dropped: 0, byStatus: {} };
}

/**
 * Starts an HTTP/2 TLS server on 127.0.0.1 that answers like APNs' provider API, for tests and
 * benchmarks. It validates the path, token, method and payload size the way APNs does, answers 200
 * with an `apns-id` in a HEADERS frame that ends the stream, and can inject latency, errors, GOAWAY,
 * dropped connections and hangs.
 *
 * @example
 * ```ts
 * import { startMockApns } from '@mdmkit/testkit/mock-apns';
 *
 * const mock = await startMockApns({ key: serverKeyPem, cert: serverCertPem, maxConcurrentStreams: 100 });
 * mock.configure({ unregistered: new Map([[token, new Date('2026-01-01')]]) });
 * // ... point the push client at mock.origin, trusting the CA of serverCertPem ...
 * console.log(mock.stats.answered, mock.answeredFor(token)[0]?.status); // 1 410
 * await mock.close();
 * ```
 */
export async function startMockApns(options: MockApnsOptions): Promise<MockApns> {
  const requireClientCert = options.requireClientCert ?? true;
  const maxConcurrentStreams = options.maxConcurrentStreams ?? 500;
  if (!Number.isInteger(maxConcurrentStreams) || maxConcurrentStreams < 1) {
    throw new TestkitError('INVALID_OPTIONS', 'maxConcurrentStreams must be a positive integer');
  }
  const recordLimit =
    options.record === false
      ? 0
      : options.record === true || options.record === undefined
        ? Infinity
        : options.record;
  let behavior: MockApnsBehavior = { ...options };
  let random = mulberry32(behavior.seed ?? 1);
  let stats = emptyStats();
  let requests: MockApnsRequest[] = [];
  const devices = new Map<string, (request: MockApnsRequest) => unknown>();
  let seq = 0;
  let connSeq = 0;
  const nextApnsId = apnsIdSource();
  const conns = new Set<ConnState>();
  let closed = false;

  const settings = { maxConcurrentStreams, enablePush: false };
  const server: Http2SecureServer = http2.createSecureServer({
    key: options.key as string,
    cert: options.cert as string,
    ...(options.clientCa ? { ca: options.clientCa } : {}),
    requestCert: true,
    // Verification of the chain happens only when a CA was given; a missing certificate is answered
    // at the HTTP level (403) like APNs does, not with a TLS alert.
    rejectUnauthorized: false,
    allowHTTP1: false,
    settings,
  });

  // Sessions only expose a guarded proxy of their socket, so the raw sockets are kept by remote port
  // (unique among live loopback connections) to be able to cut a connection without a GOAWAY.
  const rawSockets = new Map<number, Socket>();
  const trackSocket = (socket: Socket): void => {
    const port = socket.remotePort;
    if (port === undefined) return;
    rawSockets.set(port, socket);
    socket.once('close', () => {
      if (rawSockets.get(port) === socket) rawSockets.delete(port);
    });
  };
  server.prependListener('secureConnection', trackSocket);

  const onSession = (session: ServerHttp2Session): void => {
    const socket = session.socket as TLSSocket;
    let clientTopic: string | undefined;
    let clientSerial: string | undefined;
    let hasClientCert = false;
    try {
      const peer = socket.getPeerCertificate?.();
      if (peer && Object.keys(peer).length > 0) {
        const authorized = options.clientCa ? socket.authorized : true;
        hasClientCert = authorized;
        const uid = (peer.subject as unknown as Record<string, string | string[]> | undefined)?.UID;
        clientTopic = Array.isArray(uid) ? uid[0] : uid;
        clientSerial = normaliseSerial(peer.serialNumber);
      }
    } catch {
      hasClientCert = false;
    }
    const state: ConnState = {
      id: ++connSeq,
      session,
      raw: rawSockets.get(socket.remotePort ?? -1),
      received: 0,
      lastStreamId: 0,
      goawayLastStreamId: undefined,
      inflight: new Map(),
      clientTopic,
      clientSerial,
      hasClientCert,
    };
    conns.add(state);
    stats.connections++;
    session.on('error', () => {});
    session.on('close', () => {
      conns.delete(state);
      for (const { record } of state.inflight.values()) markDropped(record);
      state.inflight.clear();
    });
    session.on('stream', (stream, headers) => onStream(state, stream, headers));
  };

  server.on('session', onSession);
  server.on('unknownProtocol', (socket: Socket) => {
    if (closed) {
      socket.destroy();
      return;
    }
    // A client that negotiated no ALPN protocol may still speak HTTP/2 with prior knowledge over TLS:
    // mark the socket as h2 and hand it back to the server's own connection handling. A client that
    // speaks anything else fails the HTTP/2 preface and only loses its own connection.
    (socket as TLSSocket & { alpnProtocol: string | false | null }).alpnProtocol = 'h2';
    server.emit('secureConnection', socket);
  });
  server.on('tlsClientError', () => {});
  server.on('sessionError', () => {});

  function cut(state: ConnState): void {
    if (state.raw) state.raw.destroy();
    else state.session.destroy();
  }

  function markDropped(record: MockApnsRequest): void {
    if (record.outcome === 'pending') {
      record.outcome = 'dropped';
      stats.dropped++;
    }
  }

  function keep(record: MockApnsRequest): void {
    if (recordLimit === 0) return;
    requests.push(record);
    if (requests.length > recordLimit) requests.splice(0, requests.length - recordLimit);
  }

  function sendGoaway(state: ConnState, lastStreamId: number, reason: string): void {
    if (state.goawayLastStreamId !== undefined || state.session.closed || state.session.destroyed) return;
    state.goawayLastStreamId = lastStreamId;
    try {
      state.session.goaway(NGHTTP2_NO_ERROR, lastStreamId, Buffer.from(JSON.stringify({ reason })));
    } catch {
      return;
    }
    for (const [id, entry] of state.inflight) {
      if (id > lastStreamId) refuse(state, entry.stream, entry.record);
    }
    maybeCloseAfterGoaway(state);
  }

  function maybeCloseAfterGoaway(state: ConnState): void {
    if (state.goawayLastStreamId === undefined || state.inflight.size > 0) return;
    // Give the client a moment to read the last answers before the transport goes away.
    setTimeout(() => {
      if (!state.session.destroyed) state.session.close();
    }, 5).unref();
  }

  function refuse(state: ConnState, stream: ServerHttp2Stream, record: MockApnsRequest): void {
    state.inflight.delete(stream.id ?? -1);
    if (record.outcome === 'pending') {
      record.outcome = 'refused';
      stats.refused++;
    }
    if (!stream.destroyed) stream.close(NGHTTP2_REFUSED_STREAM);
    maybeCloseAfterGoaway(state);
  }

  function answer(
    state: ConnState,
    stream: ServerHttp2Stream,
    record: MockApnsRequest,
    status: number,
    reason?: string,
    timestamp?: number,
  ): void {
    state.inflight.delete(stream.id ?? -1);
    if (stream.destroyed || stream.closed || record.outcome !== 'pending') {
      markDropped(record);
      maybeCloseAfterGoaway(state);
      return;
    }
    const requested = record.headers['apns-id'];
    const apnsId = typeof requested === 'string' && requested ? requested : nextApnsId();
    record.outcome = 'answered';
    record.status = status;
    record.apnsId = apnsId;
    stats.answered++;
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    try {
      if (status === 200) {
        stream.respond({ ':status': 200, 'apns-id': apnsId }, { endStream: true });
        const deliver = record.token === undefined ? undefined : devices.get(record.token.toLowerCase());
        if (deliver) setImmediate(runDelivery, deliver, record);
      } else {
        record.reason = reason;
        const body: Record<string, unknown> = { reason };
        if (status === 410) body.timestamp = timestamp ?? Date.now();
        stream.respond({ ':status': status, 'apns-id': apnsId, 'content-type': 'application/json' });
        stream.end(JSON.stringify(body));
      }
    } catch {
      markDropped(record);
    }
    maybeCloseAfterGoaway(state);
  }

  function onStreamClose(stream: ServerHttp2Stream, ctx: StreamCtx): void {
    const { state, record } = ctx;
    if (state.inflight.get(record.streamId)?.stream === stream) {
      state.inflight.delete(record.streamId);
      markDropped(record);
      maybeCloseAfterGoaway(state);
    }
  }

  function onStreamEnd(stream: ServerHttp2Stream, ctx: StreamCtx): void {
    if (ctx.chunks) {
      ctx.record.body = Buffer.concat(ctx.chunks).toString('utf8');
      ctx.chunks = undefined;
    }
    decide(ctx.state, stream, ctx.record, ctx.size, ctx.ordinal);
  }

  function onStream(state: ConnState, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', ignore);
    const streamId = stream.id ?? 0;
    const path = String(headers[':path'] ?? '');
    const match = TOKEN_PATH.exec(path);
    const record: MockApnsRequest = {
      seq: ++seq,
      connectionId: state.id,
      streamId,
      method: String(headers[':method'] ?? ''),
      path,
      token: match?.[1]?.toLowerCase(),
      headers,
      body: '',
      clientTopic: state.clientTopic,
      clientSerial: state.clientSerial,
      outcome: 'pending',
    };
    stats.received++;
    const ordinal = ++state.received;
    if (streamId > state.lastStreamId) state.lastStreamId = streamId;
    keep(record);
    state.inflight.set(streamId, { stream, record });
    const ctx: StreamCtx = {
      state,
      record,
      ordinal,
      size: 0,
      // The body text matters only to recorded requests and `respond` hooks; otherwise only its size.
      chunks: recordLimit > 0 || behavior.respond ? [] : undefined,
      onClose: onStreamClose,
      onEnd: onStreamEnd,
    };
    (stream as CtxStream)[kCtx] = ctx;
    stream.on('close', streamClose);
    if (state.goawayLastStreamId !== undefined && streamId > state.goawayLastStreamId) {
      refuse(state, stream, record);
      return;
    }
    stream.on('data', streamData);
    stream.on('end', streamEnd);
  }

  function decide(
    state: ConnState,
    stream: ServerHttp2Stream,
    record: MockApnsRequest,
    size: number,
    count: number,
  ): void {
    if (state.goawayLastStreamId !== undefined && record.streamId > state.goawayLastStreamId) {
      refuse(state, stream, record);
      return;
    }
    const b = behavior;
    let reply: MockApnsReply | undefined;
    try {
      reply = b.respond?.(record);
    } catch {
      reply = { reason: 'InternalServerError' };
    }
    if (!reply) reply = standardReply(state, record, size);
    if (!reply && b.hang) reply = { hang: true };
    if (!reply && b.dropAfter !== undefined && count >= b.dropAfter) reply = { drop: true };
    if (!reply && b.goawayAfter !== undefined && count >= b.goawayAfter) reply = { goaway: true };
    if (!reply && b.errorRate && random() < b.errorRate) {
      const reasons = b.errorReasons ?? ['InternalServerError', 'ServiceUnavailable', 'TooManyRequests'];
      reply = { reason: reasons[Math.floor(random() * reasons.length)] ?? 'InternalServerError' };
    }
    if (!reply) reply = OK;
    else if ('hang' in reply) return;
    else if ('drop' in reply) {
      markDropped(record);
      cut(state);
      return;
    } else if ('goaway' in reply) {
      sendGoaway(state, record.streamId, reply.reason ?? 'Shutdown');
      reply = OK;
    }
    const delay = reply.delayMs ?? (typeof b.latencyMs === 'function' ? b.latencyMs() : (b.latencyMs ?? 0));
    if (delay > 0) setTimeout(reply === OK ? answerOk : answerReply, delay, state, stream, record, reply);
    else if (reply === OK) answer(state, stream, record, 200);
    else answerReply(state, stream, record, reply);
  }

  function answerOk(state: ConnState, stream: ServerHttp2Stream, record: MockApnsRequest): void {
    answer(state, stream, record, 200);
  }

  function answerReply(
    state: ConnState,
    stream: ServerHttp2Stream,
    record: MockApnsRequest,
    r: AnswerReply,
  ): void {
    if ('reason' in r) {
      answer(state, stream, record, r.status ?? APNS_REASON_STATUS[r.reason] ?? 400, r.reason, r.timestamp);
    } else {
      answer(state, stream, record, 200);
    }
  }

  /** The validation APNs itself performs, in its order. */
  function standardReply(state: ConnState, record: MockApnsRequest, size: number): MockApnsReply | undefined {
    if (requireClientCert && !state.hasClientCert) return { reason: 'MissingProviderToken' };
    if (record.method !== 'POST') return { reason: 'MethodNotAllowed' };
    if (!record.path.startsWith('/3/device/')) return { reason: 'BadPath' };
    if (record.token === undefined) {
      return record.path === '/3/device/' ? { reason: 'MissingDeviceToken' } : { reason: 'BadDeviceToken' };
    }
    if (record.token.length !== 64 && record.token.length !== 160) return { reason: 'BadDeviceToken' };
    const topic = record.headers['apns-topic'];
    if (typeof topic === 'string' && state.clientTopic && topic !== state.clientTopic) {
      return { reason: 'TopicDisallowed' };
    }
    const priority = record.headers['apns-priority'];
    if (priority !== undefined && !PRIORITIES.has(String(priority))) return { reason: 'BadPriority' };
    const expiration = record.headers['apns-expiration'];
    if (expiration !== undefined && !EXPIRATION.test(String(expiration)))
      return { reason: 'BadExpirationDate' };
    if (size === 0) return { reason: 'PayloadEmpty' };
    if (size > MAX_PAYLOAD) return { reason: 'PayloadTooLarge' };
    const unregisteredAt = behavior.unregistered?.get(record.token);
    if (unregisteredAt) return { reason: 'Unregistered', timestamp: unregisteredAt.getTime() };
    return undefined;
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(new TestkitError('LISTEN_FAILED', e.message, { cause: e }));
    server.once('error', onError);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const mock: MockApns = {
    origin: `https://127.0.0.1:${port}`,
    port,
    registerDevice(token, deliver) {
      const key = token.toLowerCase();
      devices.set(key, deliver);
      return () => {
        if (devices.get(key) === deliver) devices.delete(key);
      };
    },
    get requests() {
      return requests;
    },
    get stats() {
      return stats;
    },
    get openConnections() {
      return conns.size;
    },
    configure(next) {
      behavior = { ...behavior, ...next };
      if (next.seed !== undefined) random = mulberry32(next.seed);
    },
    goawayAll(opts) {
      for (const state of conns)
        sendGoaway(state, opts?.lastStreamId ?? state.lastStreamId, opts?.reason ?? 'Shutdown');
    },
    dropAll() {
      for (const state of conns) cut(state);
    },
    reset() {
      requests = [];
      stats = emptyStats();
    },
    answeredFor(token) {
      const t = token.toLowerCase();
      return requests.filter((r) => r.token === t && r.outcome === 'answered');
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const state of conns) state.session.destroy();
      conns.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return mock;
}

// node prints serials as uppercase hex with any leading zero nibble dropped ("525B…" for 05 25 …);
// report them as whole bytes in lowercase, the form @mdmkit/crypto uses, so they compare directly.
function normaliseSerial(serial: string | undefined): string | undefined {
  if (!serial) return undefined;
  let hex = serial.toLowerCase();
  if (hex.length % 2 === 1) hex = `0${hex}`;
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  return hex;
}
