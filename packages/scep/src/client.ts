import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import {
  type Certificate,
  type ContentCipher,
  createCsr,
  decryptCms,
  encodeIssuerAndSubject,
  encryptCms,
  generateKeyPair,
  issueCertificate,
  type NameInput,
  parseCertificate,
  parseCertsOnlyCms,
  type SubjectAltNames,
  signCms,
  type verifyCms,
} from '@mdmkit/crypto';
import { octetAttribute, printableAttribute, readScepAttributes, verifyPkiMessage } from './attributes';
import { failInfoName, MessageType, PkiStatus, ScepOid } from './constants';
import { ScepError } from './errors';
import { vouchedFor } from './trust';

/** Options of {@link ScepClient}. */
export interface ScepClientOptions {
  /** The SCEP endpoint, e.g. `https://mdm.example.com/scep`. */
  url: string;
  /**
   * SHA-256 fingerprint (hex; colons and spaces ignored) of the CA certificate. When set, GetCACert must
   * return a certificate with this fingerprint; the client then encrypts only to that CA or to a
   * certificate that chains to it and allows keyEncipherment, accepts a CertRep only when signed by the CA
   * or a certificate that chains to it and allows digitalSignature, and accepts an issued certificate only
   * when it chains to the CA. Without a pin the same rules apply to the CA certificate GetCACert names,
   * which protects nothing against a man in the middle: pin in production.
   */
  caFingerprint?: string;
  /** Alternative fetch (proxies, tests). */
  fetch?: typeof fetch;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
}

/** What GetCACert returned. */
export interface ScepCaCertificates {
  /** The issuing CA. */
  ca: Certificate;
  /** The certificate requests are encrypted to (the RA when there is one, else the CA). */
  recipient: Certificate;
  /** Every certificate returned. */
  certificates: Certificate[];
}

/** Options of {@link ScepClient.enroll}. */
export interface ScepEnrollOptions {
  /** Subject of the requested certificate. */
  subject: NameInput;
  /** The challenge password, when the CA needs one. */
  challenge?: string;
  /** Key pair to certify. Default: a new RSA key of `keyBits`. */
  privateKey?: KeyObject;
  publicKey?: KeyObject;
  /** Size of a generated key. Default 2048. */
  keyBits?: 2048 | 3072 | 4096;
  subjectAltNames?: SubjectAltNames;
  /**
   * An existing certificate and its key: the request is a RenewalReq signed with them (RFC 8894
   * section 3.3.1.2). Without it, a PKCSReq signed with a temporary self-signed certificate.
   */
  existing?: { certificate: Certificate; privateKey: KeyObject };
  /** Content cipher. Default from GetCACaps: AES-128-CBC when `AES` is listed, else DES3. */
  cipher?: ContentCipher;
  /** Signature digest. Default from GetCACaps: SHA-256 when listed (or `SCEPStandard`), else SHA-1. */
  hash?: 'sha1' | 'sha256' | 'sha512';
  /** Polling while the CA answers PENDING. Default: every 2 s, 10 attempts. */
  poll?: { intervalMs?: number; maxAttempts?: number };
  /** Override the transactionID (default: hex SHA-256 of the public key). */
  transactionId?: string;
}

/** A successful enrollment. */
export interface ScepEnrollResult {
  certificate: Certificate;
  privateKey: KeyObject;
  publicKey: KeyObject;
  transactionId: string;
  /** Every certificate in the CertRep (the issued one first). */
  certificates: Certificate[];
  /** How many CertPoll rounds it took. */
  polls: number;
}

function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[\s:]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new ScepError('INVALID_OPTIONS', 'caFingerprint must be a SHA-256 hex digest');
  return hex;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

/**
 * A SCEP client (RFC 8894): GetCACaps, GetCACert with fingerprint pinning, PKCSReq, RenewalReq and polling.
 *
 * @example
 * ```ts
 * import { ScepClient } from '@mdmkit/scep';
 * const client = new ScepClient({ url: 'http://127.0.0.1:8080/scep', caFingerprint: 'ab12…' });
 * const { certificate, privateKey } = await client.enroll({ subject: 'CN=device-1', challenge: 'secret' });
 * // a year later:
 * const renewed = await client.enroll({ subject: 'CN=device-1', existing: { certificate, privateKey } });
 * ```
 */
export class ScepClient {
  private readonly url: URL;
  private readonly pin?: string;
  private readonly doFetch: typeof fetch;
  private readonly timeoutMs: number;
  private caCache?: Promise<ScepCaCertificates>;
  private capsCache?: Promise<string[]>;

  constructor(options: ScepClientOptions) {
    this.url = new URL(options.url);
    if (options.caFingerprint !== undefined) this.pin = normalizeFingerprint(options.caFingerprint);
    this.doFetch = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private async request(
    operation: string,
    init: { method?: 'GET' | 'POST'; body?: Uint8Array; params?: Record<string, string> } = {},
  ): Promise<{ contentType: string; body: Uint8Array }> {
    const url = new URL(this.url);
    url.searchParams.set('operation', operation);
    for (const [k, v] of Object.entries(init.params ?? {})) url.searchParams.set(k, v);
    let res: Response;
    try {
      res = await this.doFetch(url, {
        method: init.method ?? 'GET',
        ...(init.body ? { body: init.body, headers: { 'content-type': 'application/x-pki-message' } } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new ScepError('HTTP_ERROR', `${operation}: request to ${this.url.origin} failed`, { cause });
    }
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) {
      throw new ScepError('HTTP_ERROR', `${operation}: HTTP ${res.status}`, { status: res.status });
    }
    return { contentType: res.headers.get('content-type') ?? '', body };
  }

  /** The CA's capabilities (GetCACaps), as listed. */
  getCaCaps(): Promise<string[]> {
    this.capsCache ??= this.request('GetCACaps').then(({ body }) =>
      new TextDecoder()
        .decode(body)
        .split(/\r?\n/)
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    );
    this.capsCache.catch(() => {
      this.capsCache = undefined;
    });
    return this.capsCache;
  }

  /** The CA (and RA) certificates (GetCACert), checked against the pinned fingerprint. */
  getCaCertificates(): Promise<ScepCaCertificates> {
    this.caCache ??= this.fetchCaCertificates();
    this.caCache.catch(() => {
      this.caCache = undefined;
    });
    return this.caCache;
  }

  private async fetchCaCertificates(): Promise<ScepCaCertificates> {
    const { body } = await this.request('GetCACert');
    let certificates: Certificate[];
    try {
      certificates = [parseCertificate(body)];
    } catch {
      try {
        certificates = parseCertsOnlyCms(body);
      } catch (cause) {
        throw new ScepError('BAD_RESPONSE', 'GetCACert returned neither a certificate nor a PKCS#7', {
          cause,
        });
      }
    }
    if (certificates.length === 0) throw new ScepError('BAD_RESPONSE', 'GetCACert returned no certificate');
    let ca: Certificate | undefined;
    if (this.pin) {
      ca = certificates.find((c) => c.fingerprintSha256 === this.pin);
      if (!ca)
        throw new ScepError('FINGERPRINT_MISMATCH', 'no CA certificate matches the pinned fingerprint');
    } else {
      ca = certificates.find((c) => c.isCA) ?? certificates[0]!;
    }
    const anchor = ca;
    // Only an RA that the CA vouches for may receive the challenge; any other certificate in the answer
    // may have been put there by whoever sits between the client and the CA.
    const ra = certificates.find((c) => !c.isCA && vouchedFor(c, anchor, certificates, 'keyEncipherment'));
    // Without an RA, the CA that issues: the pinned one, or one below it (a root may be pinned while an
    // intermediate issues), the lowest CA of the answer that chains to it.
    const issuing = certificates.find(
      (c) =>
        c.isCA &&
        c.fingerprintSha256 !== anchor.fingerprintSha256 &&
        vouchedFor(c, anchor, certificates) &&
        !certificates.some((o) => o !== c && o.isCA && o.issuer.toString() === c.subject.toString()),
    );
    const recipient = ra ?? issuing ?? ca;
    if (recipient.publicKey.asymmetricKeyType !== 'rsa') {
      throw new ScepError('UNTRUSTED_RESPONSE', 'GetCACert names no RSA certificate to encrypt requests to');
    }
    return { ca, recipient, certificates };
  }

  private async choose(options: ScepEnrollOptions): Promise<{
    cipher: ContentCipher;
    hash: 'sha1' | 'sha256' | 'sha512';
    post: boolean;
  }> {
    const caps = new Set((await this.getCaCaps().catch(() => [] as string[])).map((c) => c.toUpperCase()));
    const standard = caps.has('SCEPSTANDARD');
    const cipher = options.cipher ?? (caps.has('AES') || standard ? 'aes-128-cbc' : 'des-ede3-cbc');
    const hash = options.hash ?? (caps.has('SHA-256') || standard ? 'sha256' : 'sha1');
    return { cipher, hash, post: caps.has('POSTPKIOPERATION') || standard };
  }

  /**
   * Requests a certificate: PKCSReq (or RenewalReq with `existing`), then CertPoll while PENDING.
   * Throws {@link ScepError} `REQUEST_FAILED` (with `failInfo`) when the CA refuses.
   */
  async enroll(options: ScepEnrollOptions): Promise<ScepEnrollResult> {
    const cas = await this.getCaCertificates();
    const { cipher, hash, post } = await this.choose(options);
    let privateKey = options.privateKey;
    let publicKey = options.publicKey;
    if (!privateKey) {
      const pair = await generateKeyPair({ type: 'rsa', bits: options.keyBits ?? 2048 });
      privateKey = pair.privateKey;
      publicKey = pair.publicKey;
    }
    publicKey ??= (await import('node:crypto')).createPublicKey(privateKey);
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const transactionId = options.transactionId ?? createHash('sha256').update(spki).digest('hex');
    const csr = await createCsr({
      subject: options.subject,
      privateKey,
      publicKey,
      ...(options.challenge !== undefined ? { challengePassword: options.challenge } : {}),
      ...(options.subjectAltNames ? { subjectAltNames: options.subjectAltNames } : {}),
      hash: hash === 'sha1' ? 'sha256' : hash,
    });
    const signer = options.existing ?? {
      certificate: await issueCertificate({
        subject: options.subject,
        publicKey,
        issuerKey: privateKey,
        validityDays: 1,
        hash: 'sha256',
      }),
      privateKey,
    };
    const messageType = options.existing ? MessageType.RenewalReq : MessageType.PKCSReq;
    const send = (type: number, content: Uint8Array) =>
      this.exchange({ type, content, cas, cipher, hash, post, transactionId, signer });

    let reply = await send(messageType, csr);
    let polls = 0;
    const interval = options.poll?.intervalMs ?? 2000;
    const maxAttempts = options.poll?.maxAttempts ?? 10;
    while (reply.status === PkiStatus.PENDING) {
      if (polls >= maxAttempts) {
        throw new ScepError('PENDING_TIMEOUT', `still PENDING after ${polls} polls`);
      }
      await new Promise((r) => setTimeout(r, interval));
      polls++;
      const issuerAndSubject = encodeIssuerAndSubject({
        issuer: cas.ca.subject.der,
        subject: options.subject,
      });
      reply = await send(MessageType.CertPoll, issuerAndSubject);
    }
    if (reply.status === PkiStatus.FAILURE) {
      const name = reply.failInfo !== undefined ? failInfoName(reply.failInfo) : undefined;
      throw new ScepError('REQUEST_FAILED', `the CA refused the request${name ? ` (${name})` : ''}`, {
        ...(name ? { failInfo: name } : {}),
      });
    }
    if (reply.status !== PkiStatus.SUCCESS || !reply.content) {
      throw new ScepError('BAD_RESPONSE', `unexpected pkiStatus ${reply.status}`);
    }
    let certificates: Certificate[];
    try {
      const opened = await decryptCms(reply.content, { recipients: [signer] });
      certificates = parseCertsOnlyCms(opened.content);
    } catch (cause) {
      throw new ScepError('BAD_RESPONSE', 'cannot open the CertRep envelope', { cause });
    }
    const spkiBytes = new Uint8Array(spki);
    const certificate = certificates.find((c) => sameBytes(c.spki, spkiBytes));
    if (!certificate) throw new ScepError('BAD_RESPONSE', 'the CertRep holds no certificate for our key');
    if (!vouchedFor(certificate, cas.ca, [...certificates, ...cas.certificates])) {
      throw new ScepError('UNTRUSTED_RESPONSE', 'the issued certificate does not chain to the CA');
    }
    return {
      certificate,
      privateKey,
      publicKey,
      transactionId,
      certificates: [certificate, ...certificates.filter((c) => c !== certificate)],
      polls,
    };
  }

  /** Builds, sends and checks one pkiMessage exchange; returns the CertRep's status and envelope. */
  private async exchange(args: {
    type: number;
    content: Uint8Array;
    cas: ScepCaCertificates;
    cipher: ContentCipher;
    hash: 'sha1' | 'sha256' | 'sha512';
    post: boolean;
    transactionId: string;
    signer: { certificate: Certificate; privateKey: KeyObject };
  }): Promise<{ status: number; failInfo?: number; content?: Uint8Array }> {
    const message = await buildPkiMessage({
      messageType: args.type,
      content: args.content,
      recipient: args.cas.recipient,
      cipher: args.cipher,
      hash: args.hash,
      transactionId: args.transactionId,
      signer: args.signer,
    });
    const { body } = args.post
      ? await this.request('PKIOperation', { method: 'POST', body: message.der })
      : await this.request('PKIOperation', {
          params: { message: Buffer.from(message.der).toString('base64') },
        });
    let verified: Awaited<ReturnType<typeof verifyCms>>;
    try {
      verified = await verifyPkiMessage(body);
    } catch (cause) {
      throw new ScepError('BAD_RESPONSE', 'the CertRep signature does not verify', { cause });
    }
    if (!vouchedFor(verified.signer, args.cas.ca, args.cas.certificates, 'digitalSignature')) {
      throw new ScepError('UNTRUSTED_RESPONSE', 'the CertRep is not signed by the CA or an RA it certified');
    }
    const attrs = readScepAttributes(verified.signedAttributes);
    if (!attrs || attrs.messageType !== MessageType.CertRep) {
      throw new ScepError('BAD_RESPONSE', 'the answer is not a CertRep');
    }
    if (attrs.transactionId !== args.transactionId) {
      throw new ScepError('BAD_RESPONSE', 'the CertRep answers another transaction');
    }
    if (!attrs.recipientNonce || !sameBytes(attrs.recipientNonce, message.senderNonce)) {
      throw new ScepError('BAD_RESPONSE', 'the CertRep recipientNonce does not echo our senderNonce');
    }
    if (attrs.pkiStatus === undefined) throw new ScepError('BAD_RESPONSE', 'the CertRep has no pkiStatus');
    return {
      status: attrs.pkiStatus,
      ...(attrs.failInfo !== undefined ? { failInfo: attrs.failInfo } : {}),
      ...(verified.content.length > 0 ? { content: verified.content } : {}),
    };
  }
}

/** Options of {@link buildPkiMessage}. */
export interface BuildPkiMessageOptions {
  /** A {@link MessageType} value (19 = PKCSReq, …). */
  messageType: number;
  /** The message data to envelope (a CSR for PKCSReq/RenewalReq). */
  content: Uint8Array;
  /** The CA or RA certificate to encrypt to. */
  recipient: Certificate;
  cipher: ContentCipher;
  hash: 'sha1' | 'sha256' | 'sha512';
  transactionId: string;
  signer: { certificate: Certificate; privateKey: KeyObject };
  /** Default: 16 random bytes. */
  senderNonce?: Uint8Array;
}

/**
 * Builds a pkiMessage (SignedData over an EnvelopedData). Exposed for load drivers and tests that need
 * to pre-build requests.
 */
export async function buildPkiMessage(
  options: BuildPkiMessageOptions,
): Promise<{ der: Uint8Array; senderNonce: Uint8Array }> {
  const senderNonce = options.senderNonce ?? new Uint8Array(randomBytes(16));
  const envelope = await encryptCms({
    content: options.content,
    recipients: [options.recipient],
    cipher: options.cipher,
  });
  const der = await signCms({
    content: envelope,
    certificate: options.signer.certificate,
    privateKey: options.signer.privateKey,
    hash: options.hash,
    certificates: [options.signer.certificate],
    signedAttributes: [
      printableAttribute(ScepOid.messageType, String(options.messageType)),
      printableAttribute(ScepOid.transactionID, options.transactionId),
      octetAttribute(ScepOid.senderNonce, senderNonce),
    ],
  });
  return { der, senderNonce };
}
