import { createPublicKey, randomBytes } from 'node:crypto';
import type { FetchHandler } from '@mdmkit/http';
import {
  type Certificate,
  type CmsAttribute,
  type ContentCipher,
  type Csr,
  createCertsOnlyCms,
  createCsr,
  decryptCms,
  encryptCms,
  issueCertificate,
  parseCertificate,
  parseCsr,
  signCms,
  verifyCertificateChain,
  type verifyCms,
} from '@mdmkit/crypto';
import {
  octetAttribute,
  printableAttribute,
  readScepAttributes,
  verifyPkiMessage,
  type ScepAttributes,
  toHex,
} from './attributes';
import { messageKeys, type ScepCa } from './ca';
import {
  ContentType,
  DEFAULT_CAPABILITIES,
  FailInfo,
  type FailInfoName,
  MessageType,
  PkiStatus,
  type ScepCapability,
  ScepOid,
} from './constants';
import { toFetchHandler } from './node';
import type { PolicyDecision, ScepEnrollmentRequest, ScepPolicy } from './policy';
import { isMdmkitError } from './errors';
import { readIssuerAndSerial, readIssuerAndSubject, readStrictCsr } from './request-content';
import type { ScepStore } from './store';

/** Options of {@link createScepServer}. */
export interface ScepServerOptions {
  ca: ScepCa;
  /** Decides what gets issued; see {@link createScepPolicy}. */
  policy: ScepPolicy;
  /** Seen nonces and issued certificates (and one-time challenges, when the policy uses them). */
  store: ScepStore;
  /** What GetCACaps lists. Default {@link DEFAULT_CAPABILITIES}. */
  capabilities?: readonly ScepCapability[];
  /** The next CA, served by GetNextCACert during a rollover. */
  nextCa?: { certificate: Certificate; ra?: Certificate };
  /** Largest accepted request body (and `message=` parameter, decoded). Default 128 KiB. */
  maxBodyBytes?: number;
  /** How long a senderNonce is remembered for replay detection. Default 24 hours. */
  nonceTtlSeconds?: number;
  /**
   * When set, a request whose signingTime is further than this from the server's clock gets FAILURE/badTime.
   * Off by default: devices at first boot can have wrong clocks, and the senderNonce already stops replays.
   */
  maxClockSkewSeconds?: number;
  /** Most pending requests kept in memory at once. Default 10 000. */
  maxPending?: number;
  /** How long a pending request is kept. Default 7 days. */
  pendingTtlSeconds?: number;
  /** Clock, for tests. */
  now?: () => Date;
  /** Told about each request outcome (never given secrets). */
  onEvent?: (event: ScepServerEvent) => void;
}

/** What the server reports through `onEvent`. */
export type ScepServerEvent =
  | { type: 'issued'; serial: string; subject: string; transactionId: string; renewal: boolean }
  | { type: 'rejected'; failInfo: FailInfoName; reason: string; transactionId?: string }
  | { type: 'pending'; transactionId: string }
  | { type: 'error'; error: unknown };

/** A framework-neutral HTTP request as the server needs it. */
export interface ScepHttpRequest {
  method: string;
  /** Query string parameters. */
  query: URLSearchParams;
  /** The body for POST. */
  body?: Uint8Array;
}

/** A framework-neutral HTTP response. */
export interface ScepHttpResponse {
  status: number;
  contentType: string;
  body: Uint8Array;
  /** For a 503: when to retry, sent as `Retry-After`. */
  retryAfterSeconds?: number;
}

/** A SCEP server: the WHATWG handler, plus a lower-level entry point that adapters use. */
export interface ScepServer {
  /** `(Request) => Promise<Response>`, mountable in any framework that speaks fetch. */
  readonly fetch: (request: Request) => Promise<Response>;
  /** The same, on already-read input. Never throws. */
  handle(request: ScepHttpRequest): Promise<ScepHttpResponse>;
  /** Largest accepted body, for adapters that read it themselves. */
  readonly maxBodyBytes: number;
}

const SUPPORTED_HASHES = new Set(['sha1', 'sha256', 'sha512']);
/** The one reason given for every request whose envelope does not open into a valid request. */
const UNOPENABLE = 'the pkcsPKIEnvelope does not open into a valid request';
const encoder = new TextEncoder();

function text(status: number, message: string): ScepHttpResponse {
  return { status, contentType: 'text/plain; charset=utf-8', body: encoder.encode(`${message}\n`) };
}

/** Data for a CertRep answer, taken from the request. */
interface ReplyContext {
  attrs: ScepAttributes;
  requester: Certificate;
  hash: 'sha1' | 'sha256' | 'sha512';
}

interface PendingEntry {
  request: ScepEnrollmentRequest;
  cipher: ContentCipher;
  spki: string;
  expiresAt: number;
}

/**
 * Creates a SCEP server (RFC 8894) with the given CA, policy and store.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { MemoryStorage } from '@mdmkit/storage';
 * import { createScepPolicy, createScepServer, staticChallenge, toNodeListener } from '@mdmkit/scep';
 * const scep = createScepServer({ ca, store: new MemoryStorage(), policy: createScepPolicy({ challenge: staticChallenge('secret') }) });
 * createServer(toNodeListener(scep, { path: '/scep' })).listen(8080, '127.0.0.1');
 * // or, in any fetch-style framework: app.all('/scep', (req) => scep.fetch(req));
 * ```
 */
export function createScepServer(options: ScepServerOptions): ScepServer {
  const ca = options.ca;
  const keys = messageKeys(ca);
  const now = options.now ?? (() => new Date());
  const maxBodyBytes = options.maxBodyBytes ?? 128 * 1024;
  const nonceTtl = (options.nonceTtlSeconds ?? 86_400) * 1000;
  const maxPending = options.maxPending ?? 10_000;
  const pendingTtl = (options.pendingTtlSeconds ?? 7 * 86_400) * 1000;
  const caps = [...(options.capabilities ?? DEFAULT_CAPABILITIES)];
  if (options.nextCa && !caps.includes('GetNextCACert')) caps.push('GetNextCACert');
  const capsBody = encoder.encode(caps.join('\n'));
  const pending = new Map<string, PendingEntry>();
  const emit = (e: ScepServerEvent) => {
    try {
      options.onEvent?.(e);
    } catch {
      // A listener's failure must not change the answer.
    }
  };

  const extra = [
    ...(ca.ra ? [ca.ra.certificate, ...(ca.ra.signing ? [ca.ra.signing.certificate] : [])] : []),
    ...(ca.chain ?? []),
  ];
  const caCertResponse: ScepHttpResponse =
    extra.length === 0
      ? { status: 200, contentType: ContentType.caCert, body: ca.certificate.der }
      : {
          status: 200,
          contentType: ContentType.caRaCert,
          body: createCertsOnlyCms([ca.certificate, ...extra]),
        };
  let nextCaResponse: Promise<ScepHttpResponse> | undefined;
  // A request signed by the server's own decryption key. When the envelope does not open, the readers
  // parse it in place of the plaintext (parsing a whole CSR costs hundreds of microseconds, failing on
  // nothing a few: a tampered envelope with valid padding opens into a CSR that parses), and its
  // signature is checked in place of a CSR that is missing.
  const decoy: Promise<{ der: Uint8Array; csr: Csr | undefined }> = createCsr({
    subject: 'CN=stand-in for a request that does not open',
    privateKey: keys.privateKey,
    publicKey: createPublicKey(keys.privateKey),
    challengePassword: 'stand-in challenge password',
  }).then(
    (der) => ({ der, csr: parseCsr(der) }),
    () => ({ der: new Uint8Array(0), csr: undefined }),
  );

  async function certRep(
    ctx: ReplyContext,
    status: keyof typeof PkiStatus,
    extraArgs: { failInfo?: FailInfoName; envelope?: Uint8Array } = {},
  ): Promise<ScepHttpResponse> {
    const attributes: CmsAttribute[] = [
      printableAttribute(ScepOid.messageType, String(MessageType.CertRep)),
      printableAttribute(ScepOid.pkiStatus, String(PkiStatus[status])),
      // Echo the transactionID byte for byte, whatever string type the client chose.
      { oid: ScepOid.transactionID, values: [ctx.attrs.transactionIdDer] },
      octetAttribute(ScepOid.recipientNonce, ctx.attrs.senderNonce),
      octetAttribute(ScepOid.senderNonce, randomBytes(16)),
    ];
    if (extraArgs.failInfo !== undefined) {
      attributes.push(printableAttribute(ScepOid.failInfo, String(FailInfo[extraArgs.failInfo])));
    }
    const der = await signCms({
      content: extraArgs.envelope ?? new Uint8Array(0),
      // FAILURE and PENDING carry no pkcsPKIEnvelope: the eContent is left out.
      detached: extraArgs.envelope === undefined,
      certificate: keys.signingCertificate,
      privateKey: keys.signer,
      hash: ctx.hash,
      signedAttributes: attributes,
      certificates: [keys.signingCertificate],
    });
    return { status: 200, contentType: ContentType.pkiMessage, body: der };
  }

  function failure(ctx: ReplyContext, failInfo: FailInfoName, reason: string): Promise<ScepHttpResponse> {
    emit({ type: 'rejected', failInfo, reason, transactionId: ctx.attrs.transactionId });
    return certRep(ctx, 'FAILURE', { failInfo });
  }

  async function success(ctx: ReplyContext, certs: Certificate[], cipher: ContentCipher) {
    const envelope = await encryptCms({
      content: createCertsOnlyCms(certs),
      recipients: [ctx.requester],
      // Single DES is accepted on the way in, never used on the way out.
      cipher: cipher === 'des-cbc' ? 'des-ede3-cbc' : cipher,
    });
    return certRep(ctx, 'SUCCESS', { envelope });
  }

  /**
   * Decrypts the pkcsPKIEnvelope; undefined on any failure. Callers never answer from this alone: they
   * run the same parse (and, for enrollments, the same signature check) whether it opened or not, and
   * give one answer for every failure, so that no answer or timing tells a padding error from a
   * malformed plaintext.
   */
  async function openEnvelope(
    content: Uint8Array,
  ): Promise<{ content: Uint8Array; cipher: ContentCipher } | undefined> {
    try {
      const r = await decryptCms(content, {
        recipients: [{ certificate: keys.certificate, privateKey: keys.privateKey }],
      });
      return { content: r.content, cipher: r.cipher };
    } catch {
      return undefined;
    }
  }

  function unopenable(ctx: ReplyContext): Promise<ScepHttpResponse> {
    return failure(ctx, 'badMessageCheck', UNOPENABLE);
  }

  /** Whether `signer` is a currently valid certificate issued by this CA (a renewal). */
  function ourValidCertificate(signer: Certificate): Certificate | undefined {
    if (signer.isCA) return undefined;
    try {
      verifyCertificateChain(signer, { trusted: [ca.certificate], intermediates: ca.chain ?? [], at: now() });
      return signer;
    } catch {
      return undefined;
    }
  }

  async function issue(
    ctx: ReplyContext,
    request: ScepEnrollmentRequest,
    decision: Extract<PolicyDecision, { action: 'issue' }>,
    cipher: ContentCipher,
  ): Promise<ScepHttpResponse> {
    const t = decision.template;
    const serialBytes = randomBytes(16);
    // Positive and exactly 16 bytes: clear the sign bit, set the next one.
    serialBytes[0] = (serialBytes[0]! & 0x7f) | 0x40;
    const serialNumber = toHex(serialBytes);
    const at = now();
    const notBefore = new Date(at.getTime() - 5 * 60_000);
    const notAfter = new Date(at.getTime() + t.validityDays * 86_400_000);
    const sans = t.subjectAltNames ?? request.subjectAltNames;
    const cert = await issueCertificate({
      subject: t.subject ?? request.subject.attributes.map((a) => ({ oid: a.oid, value: a.value })),
      publicKey: request.publicKey,
      issuer: ca.certificate,
      issuerKey: keys.issuer,
      serialNumber,
      notBefore,
      notAfter,
      keyUsage: t.keyUsage,
      extendedKeyUsage: t.extendedKeyUsage,
      ...(sans ? { subjectAltNames: sans } : {}),
      hash: 'sha256',
    });
    await options.store.putIssuedCertificate({
      serial: cert.serialNumber,
      subject: cert.subject.toString(),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      requester: request.transactionId,
      certificateDer: cert.der,
      issuedAt: at,
    });
    emit({
      type: 'issued',
      serial: cert.serialNumber,
      subject: cert.subject.toString(),
      transactionId: request.transactionId,
      renewal: request.renewing !== undefined,
    });
    return success(ctx, [cert], cipher);
  }

  async function act(
    ctx: ReplyContext,
    request: ScepEnrollmentRequest,
    decision: PolicyDecision,
    cipher: ContentCipher,
  ): Promise<ScepHttpResponse> {
    if (decision.action === 'issue') {
      pending.delete(ctx.attrs.transactionId);
      return issue(ctx, request, decision, cipher);
    }
    if (decision.action === 'reject') {
      pending.delete(ctx.attrs.transactionId);
      return failure(ctx, decision.failInfo, decision.reason);
    }
    sweepPending();
    if (pending.size >= maxPending && !pending.has(ctx.attrs.transactionId)) {
      return failure(ctx, 'badRequest', 'too many pending requests');
    }
    pending.set(ctx.attrs.transactionId, {
      request,
      cipher,
      spki: toHex(ctx.requester.spki),
      expiresAt: Date.now() + pendingTtl,
    });
    emit({ type: 'pending', transactionId: ctx.attrs.transactionId });
    return certRep(ctx, 'PENDING');
  }

  function sweepPending() {
    const t = Date.now();
    for (const [k, v] of pending) if (v.expiresAt <= t) pending.delete(k);
  }

  /**
   * Records the request's senderNonce, insert-if-absent, once the server is about to act on it: undefined
   * when it is fresh, else the answer (a replay, or a full store). Requests that fail before this point
   * (anyone can sign one with a self-signed certificate) get their answer without touching the store,
   * so a flood of them cannot fill it; a replay of one gets the same refusal again.
   */
  async function claimNonce(ctx: ReplyContext): Promise<ScepHttpResponse | undefined> {
    let fresh: boolean;
    try {
      fresh = await options.store.recordSenderNonce(
        toHex(ctx.attrs.senderNonce),
        new Date(now().getTime() + nonceTtl),
      );
    } catch (error) {
      // A full replay store refuses new requests rather than forget a live nonce: tell the client to
      // come back later instead of failing its enrollment for good.
      if (isMdmkitError(error) && error.code === 'FULL') {
        emit({
          type: 'rejected',
          failInfo: 'badRequest',
          reason: 'the replay-nonce store is full',
          transactionId: ctx.attrs.transactionId,
        });
        return {
          ...text(503, 'busy: too many requests in the replay window, retry later'),
          retryAfterSeconds: 60,
        };
      }
      throw error;
    }
    return fresh ? undefined : failure(ctx, 'badRequest', 'replayed senderNonce');
  }

  async function enrollment(ctx: ReplyContext, content: Uint8Array, type: 'PKCSReq' | 'RenewalReq') {
    const opened = await openEnvelope(content);
    const standIn = await decoy;
    const csr = opened ? readStrictCsr(opened.content) : undefined;
    // Every path parses one full-size request: a plaintext that is no CSR (garbled by a padding-valid
    // tamper, refused in microseconds) is followed by the stand-in, as an envelope that did not open is,
    // since a full parse costs hundreds of microseconds and the difference would time-tell the two.
    if (!csr) readStrictCsr(standIn.der);
    // Exactly one RSA signature check on every path: a stand-in request's when there is no CSR to check.
    const checked = csr ?? standIn.csr;
    let signatureOk = false;
    try {
      signatureOk = checked?.verifySignature() ?? false;
    } catch {
      signatureOk = false;
    }
    if (!opened || !csr || !signatureOk) return unopenable(ctx);
    const renewing = ourValidCertificate(ctx.requester);
    const request: ScepEnrollmentRequest = {
      messageType: type,
      transactionId: ctx.attrs.transactionId,
      subject: csr.subject,
      ...(csr.subjectAltNames ? { subjectAltNames: csr.subjectAltNames } : {}),
      publicKey: csr.publicKey,
      ...(csr.challengePassword !== undefined ? { challenge: csr.challengePassword } : {}),
      signer: ctx.requester,
      ...(renewing ? { renewing } : {}),
      csrDer: csr.der,
    };
    const decision = await options.policy.decide(request);
    if (decision.action !== 'reject') {
      const refused = await claimNonce(ctx);
      if (refused) return refused;
    }
    return act(ctx, request, decision, opened.cipher);
  }

  async function certPoll(ctx: ReplyContext, content: Uint8Array) {
    // The transactionID names the request (RFC 8894 section 3.3.3); the envelope must still open and
    // hold an IssuerAndSubject before the server says anything about the transaction.
    const opened = await openEnvelope(content);
    const poll = opened ? readIssuerAndSubject(opened.content) : undefined;
    // As for enrolment: every path that finds no IssuerAndSubject reads the full-size stand-in.
    if (!poll) readIssuerAndSubject((await decoy).der);
    if (!opened || !poll) return unopenable(ctx);
    sweepPending();
    const entry = pending.get(ctx.attrs.transactionId);
    if (!entry || entry.spki !== toHex(ctx.requester.spki)) {
      return failure(ctx, 'badCertId', 'no pending request with this transactionID');
    }
    const refused = await claimNonce(ctx);
    if (refused) return refused;
    const decision: PolicyDecision = options.policy.poll
      ? await options.policy.poll(entry.request)
      : { action: 'pending' };
    return act(ctx, entry.request, decision, opened.cipher);
  }

  async function getCert(ctx: ReplyContext, content: Uint8Array) {
    const opened = await openEnvelope(content);
    const wanted = opened ? readIssuerAndSerial(opened.content) : undefined;
    // As for enrolment: every path that finds no IssuerAndSerialNumber reads the full-size stand-in.
    if (!wanted) readIssuerAndSerial((await decoy).der);
    if (!opened || !wanted) return unopenable(ctx);
    const rec = await options.store.getIssuedCertificate(wanted.serial);
    if (!rec) return failure(ctx, 'badCertId', 'unknown serial number');
    // No nonce is recorded: GetCert changes nothing and answers with a public certificate encrypted to
    // the signer, so a replay gains nothing, while recording would let anyone who has seen one serial
    // (certificates travel in the clear) fill the replay store with self-signed requests.
    return success(ctx, [parseCertificate(rec.certificateDer)], opened.cipher);
  }

  async function pkiOperation(der: Uint8Array): Promise<ScepHttpResponse> {
    let verified: Awaited<ReturnType<typeof verifyCms>>;
    try {
      verified = await verifyPkiMessage(der);
    } catch {
      // Without a verified signer there is nobody to encrypt or address a CertRep to.
      return text(400, 'invalid pkiMessage');
    }
    const attrs = readScepAttributes(verified.signedAttributes);
    if (!attrs) return text(400, 'pkiMessage lacks messageType, transactionID or senderNonce');
    const hashOk = SUPPORTED_HASHES.has(verified.hash);
    const ctx: ReplyContext = {
      attrs,
      requester: verified.signer,
      hash: hashOk ? (verified.hash as ReplyContext['hash']) : 'sha256',
    };
    if (!hashOk) return failure(ctx, 'badAlg', `unsupported digest ${verified.hash}`);
    if (options.maxClockSkewSeconds !== undefined && verified.signingTime) {
      const skew = Math.abs(verified.signingTime.getTime() - now().getTime());
      if (skew > options.maxClockSkewSeconds * 1000)
        return failure(ctx, 'badTime', 'signingTime out of range');
    }
    if (verified.signer.publicKey.asymmetricKeyType !== 'rsa') {
      return failure(ctx, 'badAlg', 'the signer certificate must hold an RSA key to receive a CertRep');
    }
    switch (attrs.messageType) {
      case MessageType.PKCSReq:
        return enrollment(ctx, verified.content, 'PKCSReq');
      case MessageType.RenewalReq:
        return enrollment(ctx, verified.content, 'RenewalReq');
      case MessageType.CertPoll:
        return certPoll(ctx, verified.content);
      case MessageType.GetCert:
        return getCert(ctx, verified.content);
      case MessageType.GetCRL:
        return failure(ctx, 'badRequest', 'no CRL is published');
      default:
        return failure(ctx, 'badRequest', `unsupported messageType ${attrs.messageType}`);
    }
  }

  async function nextCa(): Promise<ScepHttpResponse> {
    const next = options.nextCa;
    if (!next) return text(404, 'no next CA');
    nextCaResponse ??= (async () => {
      const certs = [next.certificate, ...(next.ra ? [next.ra] : [])];
      const der = await signCms({
        content: createCertsOnlyCms(certs),
        certificate: keys.signingCertificate,
        privateKey: keys.signer,
        hash: 'sha256',
        certificates: [keys.signingCertificate],
      });
      return { status: 200, contentType: ContentType.nextCaCert, body: der };
    })();
    return nextCaResponse;
  }

  async function handle(req: ScepHttpRequest): Promise<ScepHttpResponse> {
    try {
      const method = req.method.toUpperCase();
      if (method !== 'GET' && method !== 'POST') return text(405, 'method not allowed');
      const operation = req.query.get('operation');
      switch (operation) {
        case 'GetCACaps':
          return { status: 200, contentType: ContentType.caps, body: capsBody };
        case 'GetCACert':
          return caCertResponse;
        case 'GetNextCACert':
          return await nextCa();
        case 'PKIOperation': {
          let der: Uint8Array;
          if (method === 'POST') {
            if (!req.body || req.body.length === 0) return text(400, 'empty PKIOperation body');
            der = req.body;
          } else {
            const decoded = decodeMessageParam(req.query.get('message'), maxBodyBytes);
            if (typeof decoded === 'string') return text(decoded === 'too large' ? 413 : 400, decoded);
            der = decoded;
          }
          if (der.length > maxBodyBytes) return text(413, 'pkiMessage too large');
          return await pkiOperation(der);
        }
        default:
          return text(400, operation ? 'unknown operation' : 'missing operation parameter');
      }
    } catch (error) {
      emit({ type: 'error', error });
      return text(500, 'internal error');
    }
  }

  // The WHATWG entry point is @mdmkit/http's fetch adapter: the same body limit, 413 and plain 500
  // as the node listener.
  let fetchHandler: FetchHandler | undefined;
  const server: ScepServer = { fetch: (request) => fetchHandler!(request), handle, maxBodyBytes };
  fetchHandler = toFetchHandler(server);
  return server;
}

/** Decodes the GET `message=` parameter: base64 (standard or URL alphabet), URL-escaping already removed. */
function decodeMessageParam(value: string | null, max: number): Uint8Array | string {
  if (!value) return 'missing message parameter';
  if (value.length > Math.ceil((max * 4) / 3) + 1024) return 'too large';
  // A '+' left unescaped by the client arrives as a space after form decoding.
  const b64 = value.replace(/ /g, '+').replace(/[\r\n\t]/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64)) return 'message parameter is not base64';
  const bytes = Buffer.from(b64, b64.includes('-') || b64.includes('_') ? 'base64url' : 'base64');
  if (bytes.length === 0) return 'empty message parameter';
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
