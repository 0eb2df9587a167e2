import type { Certificate } from '@mdmkit/crypto';
import type { ProtocolIssue, ReportStatus } from '@mdmkit/protocol';
import type { RecordOutcome } from '@mdmkit/storage';
import type { ServerError } from './errors';

/**
 * What the server tells its host about, in the order it happens. Webhooks and on-enroll automation
 * hang off these. Every check-in and report carries `eventId`, the same id its webhook (if the
 * outbox is on) is delivered under. A listener that throws is ignored: events never break a device's request.
 */
export type MdmEvent =
  | {
      type: 'authenticate';
      /** Stable id of this check-in: the webhook's `event_id`. */
      eventId: string;
      enrollmentId: string;
      serialNumber?: string;
      raw: Record<string, unknown>;
    }
  | {
      type: 'token-update';
      eventId: string;
      enrollmentId: string;
      deviceId: string;
      userChannel: boolean;
      /** True for the TokenUpdate that completes an enrollment (the first after Authenticate). */
      first: boolean;
      tally: number;
    }
  | { type: 'user-authenticate'; eventId: string; enrollmentId: string; deviceId: string }
  | { type: 'check-out'; eventId: string; enrollmentId: string }
  | { type: 'bootstrap-token-set'; eventId: string; enrollmentId: string }
  | { type: 'bootstrap-token-get'; eventId: string; enrollmentId: string; found: boolean }
  | {
      type: 'report';
      /** Stable id of this report: the webhook's `event_id`. */
      eventId: string;
      enrollmentId: string;
      status: ReportStatus;
      commandUuid?: string;
      requestType?: string;
      outcome: RecordOutcome;
      /** Where the report (or its typed response) does not match the schema; it is stored anyway. */
      issues: ProtocolIssue[];
      /** The CommandUUID handed out in the same answer, if any. */
      nextCommandUuid?: string;
    }
  | { type: 'enrollment-profile'; challengeIssued: boolean }
  | { type: 'certificate-associated'; enrollmentId: string; certificate: Certificate }
  | { type: 'pushed'; enrollmentIds: string[]; delivered: number; failed: number }
  | { type: 'rejected'; error: ServerError; enrollmentId?: string }
  | { type: 'error'; error: unknown }
  | LifecycleEvent;

/** Events of an enrollment's later life: DDM, identity renewal, migration, blocking, removal. */
export type LifecycleEvent =
  /** A certificate from outside the trusted CAs was accepted because it is pinned to a migrated enrollment. */
  | { type: 'migrated-identity-accepted'; enrollmentId: string; certificateHash: string }
  | {
      type: 'enrollment-migrated';
      enrollmentId: string;
      messageType: 'Authenticate' | 'TokenUpdate';
      pinned: boolean;
    }
  | { type: 'identity-renewal-enqueued'; enrollmentId: string; commandUuid: string; notAfter: Date }
  | { type: 'identity-renewed'; enrollmentId: string; certificateHash: string; oldRetireAt: Date }
  | { type: 'ddm-status'; enrollmentId: string; items: number; errors: number }
  | { type: 'declarations-changed'; setName: string; enrollmentIds: string[] }
  | { type: 'enrollment-blocked'; enrollmentId: string; actor: string }
  | { type: 'blocked-answered'; enrollmentId: string }
  | { type: 'enrollment-unblocked'; enrollmentId: string; actor: string }
  | { type: 'enrollment-removal'; enrollmentId: string; actor: string; commandUuid: string };

/** Receives {@link MdmEvent}s. */
export type MdmEventListener = (event: MdmEvent) => void;

/**
 * Calls a listener and swallows what it throws. @internal
 *
 * @example
 * ```ts
 * const emit = emitter((e) => console.log(e.type));
 * emit({ type: 'check-out', eventId: 'e1', enrollmentId: 'UDID-1' });
 * ```
 */
export function emitter(listener: MdmEventListener | undefined): MdmEventListener {
  if (!listener) return () => {};
  return (event) => {
    try {
      listener(event);
    } catch {
      // A listener's failure is the host's business, never the device's.
    }
  };
}
