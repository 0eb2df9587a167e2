import type { ApnsError } from './errors';

/** One MDM wake-up push for one device. */
export interface MdmPush {
  /** The device's push token as hex (the `Token` of its TokenUpdate check-in, hex-encoded). */
  token: string;
  /** The `PushMagic` string the device sent in its TokenUpdate check-in. */
  pushMagic: string;
  /** `apns-id` to send (a UUID); APNs generates one when absent. */
  id?: string;
  /** Overrides the client's `apns-expiration` for this push. */
  expiration?: Date | number;
  /** Overrides the client's `apns-priority` for this push. */
  priority?: number;
}

/** Failure reasons the client reports itself, beside the ones APNs answers with. */
export type LocalFailureReason =
  /** No answer within `requestTimeoutMs`. */
  | 'Timeout'
  /** The connection failed or broke before an answer arrived. */
  | 'ConnectionFailed'
  /** The push certificate is expired, not yet valid or unusable; nothing was sent. */
  | 'CertificateInvalid'
  /** The client was closed before the push completed. */
  | 'ClientClosed'
  /** The push itself is malformed (token not hex, empty push magic); nothing was sent. */
  | 'InvalidPush';

/** The final outcome of one push; every push gets exactly one. */
export type PushResult = PushDelivered | PushFailed;

/** APNs accepted the push. */
export interface PushDelivered {
  ok: true;
  push: MdmPush;
  status: 200;
  /** The `apns-id` APNs answered with. */
  apnsId: string;
  /**
   * Requests APNs may have processed for this push (1 without retries). Re-sends of requests APNs
   * refused unprocessed (REFUSED_STREAM, above a GOAWAY's last stream id) are not counted.
   */
  attempts: number;
}

/** APNs rejected the push, or it could not be delivered. */
export interface PushFailed {
  ok: false;
  push: MdmPush;
  /** HTTP status from APNs, or 0 when no answer arrived. */
  status: number;
  /** APNs' `reason` (`BadDeviceToken`, `Unregistered`, `TooManyRequests`, …) or a {@link LocalFailureReason}. */
  reason: string;
  /** For 410: when APNs last knew the token to be invalid. Mark the device unreachable. */
  timestamp?: Date;
  apnsId?: string;
  /**
   * Requests APNs may have processed for this push, counted like {@link PushDelivered.attempts}: 0
   * when APNs refused every request unprocessed.
   */
  attempts: number;
  /**
   * True when the failure is transient (429, 5xx, connection, timeout) and retries ran out; false for
   * terminal answers (4xx) that must not be retried with the same token/payload.
   */
  transient: boolean;
  /** The underlying error for local failures. */
  error?: ApnsError;
}

/** Retry policy for transient failures. */
export interface RetryOptions {
  /** Total attempts per push including the first. Default 3. */
  maxAttempts?: number;
  /** First backoff delay in milliseconds. Default 100. */
  baseDelayMs?: number;
  /** Cap of the backoff delay. Default 5000. */
  maxDelayMs?: number;
}
