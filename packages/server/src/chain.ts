/**
 * The service chain: every device request passes these links in order, each a small function that
 * either stops the request with a {@link ServerError} or hands it on. Read top to bottom, this file
 * is the whole security story of a check-in:
 *
 *   identity extraction → chain verification → message decoding → block list → certificate
 *   association → core (storage, queue, events)
 *
 * Every link is replaceable: {@link defaultLinks} returns the array, and {@link composeChain} takes
 * any array, so a host can drop in its own association store or add logging between two links.
 */
import { type Certificate, verifyCertificateChain } from '@mdmkit/crypto';
import type { HttpRequest, HttpResponse } from '@mdmkit/http';
import {
  type DecodedCheckin,
  type DecodedReport,
  decodeCheckinDict,
  decodeReportDict,
  type DeviceIdentity,
  identityFromMdmSignature,
  identityFromPeerCertificate,
  type ResolvedEnrollment,
} from '@mdmkit/protocol';
import { parseBody } from '@mdmkit/protocol/schema';
import type { EnrollmentStore } from '@mdmkit/storage';
import { isMdmkitError, ServerError } from './errors';
import type { MdmEventListener } from './events';

/** A decoded device message: a check-in (CheckInURL) or a command report (ServerURL). */
export type DeviceMessage =
  | { kind: 'checkin'; checkin: DecodedCheckin }
  | { kind: 'report'; report: DecodedReport };

/** One device request as it moves down the chain; links fill in what they establish. */
export interface MdmRequest {
  readonly http: HttpRequest;
  /** Which URL it came to: the check-in URL, the server URL, or one URL serving both. */
  readonly endpoint: 'checkin' | 'command' | 'both';
  /** Set by the identity link. */
  identity?: DeviceIdentity;
  /** Set by the decode link. */
  message?: DeviceMessage;
  /** Set by the decode link: whose message this is. */
  enrollment?: ResolvedEnrollment;
  /**
   * Set by the trust link: `migrated` when the certificate is accepted only because it is pinned to
   * an enrollment imported from another MDM, not because it chains to a trusted CA.
   */
  identityTrust?: 'chain' | 'migrated';
  /** Set by the trust link: whether storage already holds the identity's expiry record. */
  identityRecorded?: boolean;
}

/** Answers a request (the core, or a link wrapped around what follows it). */
export type MdmService = (request: MdmRequest) => Promise<HttpResponse>;

/** A link of the chain: wraps the rest of the chain. */
export type ChainLink = (next: MdmService) => MdmService;

/**
 * Joins links around a core; the first link sees the request first.
 *
 * @example
 * ```ts
 * import { composeChain, type ChainLink } from '@mdmkit/server';
 * const log: ChainLink = (next) => async (req) => {
 *   const res = await next(req);
 *   console.log(req.http.path, res.status);
 *   return res;
 * };
 * const service = composeChain([log], async () => ({ status: 200 }));
 * ```
 */
export function composeChain(links: readonly ChainLink[], core: MdmService): MdmService {
  return links.reduceRight<MdmService>((next, link) => link(next), core);
}

/**
 * Identity extraction: the client certificate of the TLS connection, or the one a trusted proxy put
 * in its header (`@mdmkit/http` only exposes a header certificate when the peer is a configured
 * trusted proxy), else the signer of `Mdm-Signature` verified over the exact body bytes.
 *
 * @example
 * ```ts
 * import { extractIdentity } from '@mdmkit/server';
 * const link = extractIdentity();
 * ```
 */
export function extractIdentity(): ChainLink {
  return (next) => async (req) => {
    const presented = req.http.clientCertificate;
    try {
      if (presented) {
        const id = identityFromPeerCertificate(presented.der);
        req.identity = presented.source === 'tls' ? id : { ...id, source: 'rfc9440-header' };
      } else {
        const signature = req.http.headers.get('mdm-signature');
        if (!signature) throw new ServerError('NO_IDENTITY', 'no client certificate and no Mdm-Signature');
        // Base64 has no comma: one means several Mdm-Signature headers joined, and the lenient
        // decoder would verify the first one alone while a proxy may have checked another.
        if (signature.includes(',')) {
          throw new ServerError('BAD_IDENTITY', 'several Mdm-Signature headers');
        }
        req.identity = await identityFromMdmSignature(signature, req.http.body);
      }
    } catch (e) {
      if (e instanceof ServerError) throw e;
      throw new ServerError('BAD_IDENTITY', 'the device identity does not verify', { cause: e });
    }
    return next(req);
  };
}

/** Options of {@link verifyIdentityChain}. */
export interface VerifyChainOptions {
  /** The SCEP CA and any explicitly configured extra CAs; nothing else is trusted. */
  trusted: () => readonly Certificate[];
  /** Clock for validity checks. */
  now?: () => Date;
}

/**
 * Chain verification: the identity certificate must chain to one of the trusted CAs, be within its
 * validity period and allow client authentication.
 *
 * @example
 * ```ts
 * import { verifyIdentityChain } from '@mdmkit/server';
 * const link = verifyIdentityChain({ trusted: () => [scepCaCertificate] });
 * ```
 */
export function verifyIdentityChain(options: VerifyChainOptions): ChainLink {
  const now = options.now ?? (() => new Date());
  return (next) => async (req) => {
    const cert = req.identity?.certificate;
    if (!cert) throw new ServerError('NO_IDENTITY', 'no identity established');
    try {
      verifyCertificateChain(cert, { trusted: options.trusted(), at: now(), requiredEku: 'clientAuth' });
    } catch (e) {
      throw new ServerError('UNTRUSTED_CERTIFICATE', 'the identity certificate is not trusted', { cause: e });
    }
    return next(req);
  };
}

/**
 * Message decoding: the body as a check-in (with `MessageType`) or a report (with `Status`). On one
 * URL serving both, the presence of `MessageType` decides.
 *
 * @example
 * ```ts
 * import { decodeMessage } from '@mdmkit/server';
 * const link = decodeMessage();
 * ```
 */
export function decodeMessage(): ChainLink {
  return (next) => async (req) => {
    try {
      const dict = parseBody(req.http.body, req.endpoint === 'command' ? 'report' : 'check-in');
      const checkin = req.endpoint === 'checkin' || (req.endpoint === 'both' && 'MessageType' in dict);
      if (checkin) {
        const decoded = decodeCheckinDict(dict);
        req.message = { kind: 'checkin', checkin: decoded };
        req.enrollment = decoded.enrollment;
      } else {
        const decoded = decodeReportDict(dict);
        req.message = { kind: 'report', report: decoded };
        req.enrollment = decoded.enrollment;
      }
    } catch (e) {
      throw new ServerError('BAD_MESSAGE', 'the body is not a check-in or report', { cause: e });
    }
    return next(req);
  };
}

/**
 * Block list: an enrollment the host blocked on purpose gets 401, which makes the device drop its
 * MDM profile. Nothing else in the chain ever answers 401.
 *
 * @example
 * ```ts
 * import { blockList } from '@mdmkit/server';
 * const removed = new Set<string>(['UDID-OF-A-STOLEN-DEVICE']);
 * const link = blockList((id) => removed.has(id));
 * ```
 */
export function blockList(isBlocked: (deviceId: string) => boolean | Promise<boolean>): ChainLink {
  return (next) => async (req) => {
    const deviceId = req.enrollment?.deviceId;
    if (deviceId !== undefined && (await isBlocked(deviceId))) {
      throw new ServerError('BLOCKED', 'this enrollment is blocked');
    }
    return next(req);
  };
}

/** Options of {@link associateCertificate}. */
export interface AssociateOptions {
  store: Pick<EnrollmentStore, 'replaceCertificate' | 'enrollmentForCertificate' | 'getEnrollment'>;
  onAssociated?: MdmEventListener;
  /**
   * Refuse an Authenticate that brings a new certificate to an enrollment that is still enabled
   * (not checked out). Default false, as in NanoMDM: a wiped or re-imaged device re-enrolls without
   * CheckOut, and refusing it strands the device until an admin intervenes. Set it when holders of
   * identities from your CAs are not all trusted to claim any UDID; a device must then check out
   * (or be disabled by the host) before it can enroll again.
   */
  refuseReenrollmentWhileEnabled?: boolean;
}

/**
 * Certificate/enrollment association, keyed by the device channel (user channels share the
 * device's identity certificate):
 *
 * - Authenticate from an identity the chain already verified (a trusted CA) starts the enrollment
 *   over and binds its certificate as the enrollment's only one, as NanoMDM does: a wiped device
 *   re-enrolls without CheckOut, and its old certificate stops opening the enrollment. A
 *   certificate bound to another enrollment is refused; with `refuseReenrollmentWhileEnabled`, so
 *   is a new certificate for an enrollment that is still enabled.
 * - Every other message must come with the certificate bound to its own enrollment.
 *
 * The check runs before the core writes anything, so a refused request changes nothing.
 *
 * @example
 * ```ts
 * import { associateCertificate } from '@mdmkit/server';
 * const link = associateCertificate({ store: storage });
 * ```
 */
export function associateCertificate(options: AssociateOptions): ChainLink {
  return (next) => async (req) => {
    const cert = req.identity?.certificate;
    const enrollment = req.enrollment;
    if (!cert || !enrollment) throw new ServerError('NO_IDENTITY', 'no identity established');
    const hash = cert.fingerprintSha256;
    const owner = await options.store.enrollmentForCertificate(hash);
    const authenticate =
      req.message?.kind === 'checkin' &&
      req.message.checkin.messageType === 'Authenticate' &&
      !enrollment.userChannel;
    if (owner !== undefined && owner !== enrollment.deviceId) {
      throw new ServerError('NOT_ASSOCIATED', 'the certificate belongs to another enrollment');
    }
    if (owner === undefined) {
      if (!authenticate) {
        throw new ServerError('NOT_ASSOCIATED', 'the certificate is not associated with this enrollment');
      }
      if (
        options.refuseReenrollmentWhileEnabled &&
        (await options.store.getEnrollment(enrollment.deviceId))?.enabled
      ) {
        throw new ServerError('NOT_ASSOCIATED', 'the enrollment is active with another certificate');
      }
      // Bound at Authenticate, before the core runs: a concurrent Authenticate with the same
      // certificate for another UDID loses here with CONFLICT instead of sharing it, and the
      // enrollment's previous certificates are unbound in the same transaction.
      try {
        await options.store.replaceCertificate(enrollment.deviceId, hash);
      } catch (e) {
        if (isMdmkitError(e) && e.code === 'CONFLICT') {
          throw new ServerError('NOT_ASSOCIATED', 'the certificate belongs to another enrollment', {
            cause: e,
          });
        }
        throw e;
      }
      options.onAssociated?.({
        type: 'certificate-associated',
        enrollmentId: enrollment.deviceId,
        certificate: cert,
      });
    }
    return next(req);
  };
}
