/**
 * Identity links for an enrollment's later life: trust by chain or by a migrated pin, retirement of
 * replaced certificates, acceptance of a renewed certificate, and the record of each identity's expiry.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type Certificate, type KeyProvider, openSecret, verifyCertificateChain } from '@mdmkit/crypto';
import type {
  CertificateAssociationStore,
  EnrollmentLookup,
  IdentityCertificateStore,
  SecretStore,
} from '@mdmkit/storage';
import type { ChainLink } from './chain';
import { ServerError } from './errors';
import type { MdmEventListener } from './events';

/** Subject CN prefix of the identity a renewal profile asks for; the rest is a one-time token. */
export const RENEWAL_CN_PREFIX = 'mdmkit-renewal.';
/** The secret kind a pending renewal's token is sealed under (owner: the device channel id). */
export const RENEWAL_SECRET_KIND = 'identity-renewal';

/** Options of {@link verifyIdentityTrust}. */
export interface IdentityTrustOptions {
  /** The SCEP CA and any explicitly configured extra CAs. */
  trusted: () => readonly Certificate[];
  store: Pick<IdentityCertificateStore, 'getIdentityCertificate'> &
    Pick<CertificateAssociationStore, 'isCertificateAssociated'> &
    Pick<EnrollmentLookup, 'getEnrollment'>;
  now?: () => Date;
  /** Told of every request accepted through a migrated pin (the explicit, logged trust mode). */
  onEvent?: MdmEventListener;
}

/**
 * Chain verification with two additions: a certificate retired by a renewal stops working once its
 * grace period is over, and a certificate that does not chain to a trusted CA is accepted when it is
 * pinned (by hash) to an enrollment imported from another MDM — for that enrollment only, since the
 * association link that follows checks that the pinned certificate belongs to the message's enrollment.
 * The pin lasts only while the certificate still opens its enabled enrollment: once the device enrolled
 * again (its certificate unbound) or checked out, the imported certificate is trusted for nothing, so
 * a kept copy of it cannot enroll any UDID, its own included.
 *
 * @example
 * ```ts
 * import { verifyIdentityTrust } from '@mdmkit/server';
 * const link = verifyIdentityTrust({ trusted: () => [scepCaCertificate], store: storage });
 * ```
 */
export function verifyIdentityTrust(options: IdentityTrustOptions): ChainLink {
  const now = options.now ?? (() => new Date());
  return (next) => async (req) => {
    const cert = req.identity?.certificate;
    if (!cert) throw new ServerError('NO_IDENTITY', 'no identity established');
    const at = now();
    const record = await options.store.getIdentityCertificate(cert.fingerprintSha256);
    req.identityRecorded = record !== undefined;
    if (record?.retireAt !== undefined && record.retireAt.getTime() <= at.getTime()) {
      throw new ServerError(
        'UNTRUSTED_CERTIFICATE',
        'the identity certificate was replaced by a renewed one',
      );
    }
    try {
      verifyCertificateChain(cert, { trusted: options.trusted(), at, requiredEku: 'clientAuth' });
      req.identityTrust = 'chain';
    } catch (e) {
      const inDate = cert.notBefore.getTime() <= at.getTime() && at.getTime() <= cert.notAfter.getTime();
      if (record?.trust !== 'migrated' || !inDate || !(await pinStillHeld(options.store, record))) {
        throw new ServerError('UNTRUSTED_CERTIFICATE', 'the identity certificate is not trusted', {
          cause: e,
        });
      }
      req.identityTrust = 'migrated';
      options.onEvent?.({
        type: 'migrated-identity-accepted',
        enrollmentId: record.enrollmentId,
        certificateHash: record.hash,
      });
    }
    return next(req);
  };
}

async function pinStillHeld(
  store: IdentityTrustOptions['store'],
  record: { enrollmentId: string; hash: string },
): Promise<boolean> {
  if (!(await store.isCertificateAssociated(record.enrollmentId, record.hash))) return false;
  return (await store.getEnrollment(record.enrollmentId))?.enabled === true;
}

/** Options of {@link acceptRenewedIdentity}. */
export interface RenewedIdentityOptions {
  store: Pick<IdentityCertificateStore, 'putIdentityCertificate' | 'retireIdentityCertificates'> &
    Pick<SecretStore, 'getSecret' | 'deleteSecret'> &
    Pick<CertificateAssociationStore, 'enrollmentForCertificate' | 'associateCertificate'>;
  /** Opens the sealed renewal tokens. */
  keyProvider: KeyProvider;
  /** How long the replaced certificate keeps working. */
  graceMs: number;
  now?: () => Date;
  onEvent?: MdmEventListener;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * Renewal: a certificate no enrollment holds yet is bound to the enrollment whose pending renewal
 * token is its subject CN. Only the device the renewal profile went to knows that token, and the
 * certificate already chained to a trusted CA (a migrated pin never applies to a new certificate), so
 * no other holder of an identity from the CA can take the enrollment. The replaced certificates are
 * retired after `graceMs`.
 *
 * @example
 * ```ts
 * import { acceptRenewedIdentity } from '@mdmkit/server';
 * const link = acceptRenewedIdentity({ store: storage, keyProvider, graceMs: 86_400_000 });
 * ```
 */
export function acceptRenewedIdentity(options: RenewedIdentityOptions): ChainLink {
  const now = options.now ?? (() => new Date());
  return (next) => async (req) => {
    const cert = req.identity?.certificate;
    const enrollment = req.enrollment;
    const cn = cert?.subject.get('CN');
    if (!cert || !enrollment || req.identityTrust !== 'chain' || !cn?.startsWith(RENEWAL_CN_PREFIX)) {
      return next(req);
    }
    const hash = cert.fingerprintSha256;
    const id = enrollment.deviceId;
    if ((await options.store.enrollmentForCertificate(hash)) !== undefined) return next(req);
    const pending = await options.store.getSecret(id, RENEWAL_SECRET_KIND);
    if (!pending) return next(req);
    const token = new TextDecoder().decode(
      await openSecret(pending.sealed, {
        provider: options.keyProvider,
        owner: id,
        kind: RENEWAL_SECRET_KIND,
      }),
    );
    if (!timingSafeEqual(digest(token), digest(cn))) return next(req);
    await options.store.associateCertificate(id, hash);
    await options.store.putIdentityCertificate({
      hash,
      enrollmentId: id,
      notAfter: cert.notAfter,
      trust: 'issued',
    });
    const retireAt = new Date(now().getTime() + options.graceMs);
    await options.store.retireIdentityCertificates(id, hash, retireAt);
    await options.store.deleteSecret(id, RENEWAL_SECRET_KIND);
    options.onEvent?.({
      type: 'identity-renewed',
      enrollmentId: id,
      certificateHash: hash,
      oldRetireAt: retireAt,
    });
    return next(req);
  };
}

/**
 * Records the identity of every Authenticate (its expiry, and how it is trusted) once the association
 * link bound it, and of any other request whose identity has no record yet (enrollments made before
 * the record existed), so that every identity in use comes up for renewal. A re-enrolled device's
 * earlier identity is unbound by the association link; the renewal job skips (and retires) identities
 * no longer bound.
 *
 * @example
 * ```ts
 * import { recordIdentityCertificates } from '@mdmkit/server';
 * const link = recordIdentityCertificates({ store: storage });
 * ```
 */
export function recordIdentityCertificates(options: {
  store: Pick<IdentityCertificateStore, 'putIdentityCertificate'>;
}): ChainLink {
  return (next) => async (req) => {
    const cert = req.identity?.certificate;
    const enrollment = req.enrollment;
    const authenticate =
      req.message?.kind === 'checkin' && req.message.checkin.messageType === 'Authenticate';
    if (cert && enrollment && !enrollment.userChannel && (authenticate || req.identityRecorded === false)) {
      const hash = cert.fingerprintSha256;
      await options.store.putIdentityCertificate({
        hash,
        enrollmentId: enrollment.deviceId,
        notAfter: cert.notAfter,
        trust: req.identityTrust === 'migrated' ? 'migrated' : 'issued',
      });
    }
    return next(req);
  };
}
