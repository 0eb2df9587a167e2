import type { AuditEventStore, CheckInStore, EnrollmentBlockStore } from '@mdmkit/storage';
import type { ChainLink } from './chain';
import { ServerError } from './errors';
import type { MdmEventListener } from './events';

/** The audit `actor` of what the server itself does (answering a blocked device). */
export const SERVER_ACTOR = 'mdm-server';
/** The audit `kind` of enrollment blocks and removals. */
export const ENROLLMENT_AUDIT_KIND = 'enrollment';

/** Options of {@link blockedEnrollments}. */
export interface BlockedEnrollmentsOptions {
  store: Pick<EnrollmentBlockStore, 'getEnrollmentBlock'> &
    Pick<AuditEventStore, 'appendAuditEvent'> &
    Pick<CheckInStore, 'checkOut'>;
  onEvent?: MdmEventListener;
  now?: () => Date;
}

/**
 * The stored block list: a blocked enrollment's request is answered 401, which makes the device
 * unenroll (remove its MDM profile) — Apple documents 401 as the answer that causes an unenroll, and
 * a device that unenrolled sends nothing more. So the answer is audited, and the enrollment is
 * checked out here (no CheckOut will come), so nothing is pushed to it afterwards. The block stays:
 * a copy of the identity replayed later is answered 401 again.
 *
 * @example
 * ```ts
 * import { blockedEnrollments } from '@mdmkit/server';
 * const link = blockedEnrollments({ store: storage });
 * ```
 */
export function blockedEnrollments(options: BlockedEnrollmentsOptions): ChainLink {
  const now = options.now ?? (() => new Date());
  return (next) => async (req) => {
    const id = req.enrollment?.deviceId;
    const block = id === undefined ? undefined : await options.store.getEnrollmentBlock(id);
    if (id === undefined || !block) return next(req);
    await options.store.appendAuditEvent({
      actor: SERVER_ACTOR,
      action: 'enrollment.block.answered',
      owner: id,
      kind: ENROLLMENT_AUDIT_KIND,
      reason: `answered 401: ${block.reason}`,
      at: now(),
    });
    await options.store.checkOut(id);
    options.onEvent?.({ type: 'blocked-answered', enrollmentId: id });
    throw new ServerError('BLOCKED', 'this enrollment is blocked');
  };
}
