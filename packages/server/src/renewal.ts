import { randomBytes } from 'node:crypto';
import { installProfileCommand } from '@mdmkit/commands';
import { type KeyProvider, sealSecret } from '@mdmkit/crypto';
import type {
  CertificateAssociationStore,
  EnrollmentId,
  EnrollmentLookup,
  IdentityCertificateStore,
  JobLeases,
  SecretStore,
} from '@mdmkit/storage';
import { isMdmkitError, ServerError } from './errors';
import type { MdmEventListener } from './events';
import { RENEWAL_CN_PREFIX, RENEWAL_SECRET_KIND } from './identity-trust';

/** Default of {@link IdentityRenewalOptions.withinDays}. */
export const DEFAULT_RENEWAL_WINDOW_DAYS = 30;
/** The lease every replica's renewal job competes for. */
export const RENEWAL_LEASE = 'identity-renewal';

const DAY_MS = 86_400_000;

/** Options of {@link createIdentityRenewal}. */
export interface IdentityRenewalOptions {
  storage: JobLeases &
    Pick<IdentityCertificateStore, 'listExpiringIdentityCertificates' | 'putIdentityCertificate'> &
    Pick<SecretStore, 'putSecret' | 'getSecret'> &
    Pick<CertificateAssociationStore, 'isCertificateAssociated'> &
    Pick<EnrollmentLookup, 'getEnrollment'>;
  /** Seals the pending renewal tokens. */
  keyProvider: KeyProvider;
  /** Builds the renewal profile: the MDM profile with a fresh challenge, asking for `subjectCn`. */
  renewalProfile: (subjectCn: string) => Promise<Uint8Array>;
  /** Queues a command and pushes (the server's `enqueue`). */
  enqueue: (
    command: ReturnType<typeof installProfileCommand>,
    ids: readonly EnrollmentId[],
  ) => Promise<unknown>;
  /** Renew identities that expire within this many days. Default 30. */
  withinDays?: number;
  /** This replica's name in the lease. Default a random one. */
  holder?: string;
  /** Lease time to live. Default 5 minutes. */
  leaseTtlMs?: number;
  /** A renewal still pending after this long (the device never installed it) is sent afresh. Default 7 days. */
  retryAfterMs?: number;
  now?: () => Date;
  onEvent?: MdmEventListener;
}

/** What one run did. */
export interface RenewalRun {
  /** False when another replica held the lease (nothing was done). */
  ran: boolean;
  /** Enrollments that got a renewal profile. */
  enqueued: EnrollmentId[];
}

/** The identity-renewal background job. */
export interface IdentityRenewal {
  /** One pass under the lease: every identity expiring within the window gets a renewal profile. */
  runOnce(): Promise<RenewalRun>;
  /** Runs {@link IdentityRenewal.runOnce} every `intervalMs` until the returned function is called. */
  start(intervalMs: number): () => void;
}

/**
 * The identity-renewal job: under a lease (so N replicas never renew twice), every enrollment whose
 * current identity certificate expires within `withinDays` (default 30) gets an InstallProfile of
 * the MDM profile asking for a new identity whose subject CN is a one-time token. The token is kept
 * sealed until the device first uses the new certificate (see `acceptRenewedIdentity`); an
 * enrollment with a renewal pending is skipped until `retryAfterMs` (default 7 days) has passed.
 *
 * @example
 * ```ts
 * import { createIdentityRenewal } from '@mdmkit/server';
 * const job = mdm.lifecycle!.renewal; // or createIdentityRenewal({ ... })
 * const stop = job.start(3_600_000);
 * ```
 */
export function createIdentityRenewal(options: IdentityRenewalOptions): IdentityRenewal {
  const now = options.now ?? (() => new Date());
  const holder = options.holder ?? `renewal-${randomBytes(8).toString('hex')}`;
  const ttl = options.leaseTtlMs ?? 5 * 60_000;
  const days = options.withinDays ?? DEFAULT_RENEWAL_WINDOW_DAYS;
  const retryAfterMs = options.retryAfterMs ?? 7 * DAY_MS;
  if (!(days > 0)) throw new ServerError('INVALID_OPTIONS', 'withinDays must be positive');
  const { storage } = options;

  async function renew(enrollmentId: EnrollmentId, notAfter: Date): Promise<boolean> {
    const token = `${RENEWAL_CN_PREFIX}${randomBytes(16).toString('hex')}`;
    const sealed = await sealSecret(new TextEncoder().encode(token), {
      provider: options.keyProvider,
      owner: enrollmentId,
      kind: RENEWAL_SECRET_KIND,
    });
    // Compare-and-set: a renewal already pending (or another replica's) wins and this one is
    // skipped, unless it has waited longer than `retryAfterMs`; then its token is replaced, so only
    // the newest profile's identity can complete it.
    const pending = await storage.getSecret(enrollmentId, RENEWAL_SECRET_KIND);
    if (pending && now().getTime() - pending.updatedAt.getTime() < retryAfterMs) return false;
    try {
      await storage.putSecret({
        owner: enrollmentId,
        kind: RENEWAL_SECRET_KIND,
        sealed,
        expectedVersion: pending?.version ?? 0,
      });
    } catch (e) {
      if (isMdmkitError(e) && e.code === 'CONFLICT') return false;
      throw e;
    }
    const command = installProfileCommand({ Payload: await options.renewalProfile(token) });
    await options.enqueue(command, [enrollmentId]);
    options.onEvent?.({
      type: 'identity-renewal-enqueued',
      enrollmentId,
      commandUuid: command.CommandUUID,
      notAfter,
    });
    return true;
  }

  async function runOnce(): Promise<RenewalRun> {
    const lease = await storage.acquireLease(RENEWAL_LEASE, holder, ttl, now());
    if (!lease) return { ran: false, enqueued: [] };
    const enqueued: EnrollmentId[] = [];
    try {
      const before = new Date(now().getTime() + days * DAY_MS);
      let after: string | undefined;
      do {
        const page = await storage.listExpiringIdentityCertificates(before, {
          limit: 500,
          ...(after ? { after } : {}),
        });
        for (const rec of page.items) {
          // Only the identity that still opens an enabled enrollment is worth renewing; one that no
          // longer does (its device enrolled again) is retired, so later runs do not read it again.
          if (!(await storage.isCertificateAssociated(rec.enrollmentId, rec.hash))) {
            await storage.putIdentityCertificate({ ...rec, retireAt: now() });
            continue;
          }
          if ((await storage.getEnrollment(rec.enrollmentId))?.enabled !== true) continue;
          if (await renew(rec.enrollmentId, rec.notAfter)) enqueued.push(rec.enrollmentId);
        }
        after = page.next;
      } while (after);
    } finally {
      await storage.releaseLease(lease);
    }
    return { ran: true, enqueued };
  }

  return {
    runOnce,
    start(intervalMs) {
      if (!(intervalMs >= 1000)) throw new ServerError('INVALID_OPTIONS', 'intervalMs must be at least 1000');
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        runOnce()
          .catch((error) => options.onEvent?.({ type: 'error', error }))
          .finally(() => {
            running = false;
          });
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
