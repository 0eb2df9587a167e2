// The webhook body, in the JSON shape NanoMDM and MicroMDM send, so their consumers read ours as is.
import { randomUUID } from 'node:crypto';
import type { OutboxEventInput } from '@mdmkit/storage';

/** Who a message came from, as the webhook tells it. */
export interface WebhookSender {
  /** The device's UDID, when the message carries one. */
  udid?: string;
  /** The EnrollmentID of a User Enrollment, when the message carries one. */
  enrollmentId?: string;
}

/** The `checkin_event` of a check-in webhook. */
export interface CheckinWebhookEvent {
  udid?: string;
  enrollment_id?: string;
  /** On `mdm.TokenUpdate`: how many TokenUpdates since enrollment (1 = the enrollment's first). */
  token_update_tally?: number;
  url_params?: Record<string, string>;
  /** The check-in plist exactly as the device sent it, base64. */
  raw_payload: string;
}

/** The `acknowledge_event` of a report webhook. */
export interface AcknowledgeWebhookEvent {
  udid?: string;
  enrollment_id?: string;
  status: string;
  /** The report's CommandUUID; empty for an Idle report, as NanoMDM sends it. */
  command_uuid: string;
  url_params?: Record<string, string>;
  /** The report plist exactly as the device sent it, base64. */
  raw_payload: string;
}

/**
 * One webhook delivery: `topic` is `mdm.<MessageType>` for a check-in and `mdm.Connect` for a
 * report; `event_id` is the stable id to de-duplicate on, the same in every redelivery.
 */
export interface WebhookEvent {
  topic: string;
  event_id: string;
  created_at: string;
  checkin_event?: CheckinWebhookEvent;
  acknowledge_event?: AcknowledgeWebhookEvent;
}

/** What a webhook says about one device message. */
export interface WebhookMessage {
  kind: 'checkin' | 'report';
  /** The check-in's MessageType (for a check-in). */
  messageType?: string;
  /** The report's Status and CommandUUID (for a report). */
  status?: string;
  commandUuid?: string;
  /** For a TokenUpdate: the enrollment's TokenUpdate count including this one. */
  tokenUpdateTally?: number;
  sender: WebhookSender;
  /** The body the device sent. */
  raw: Uint8Array;
  /** The request's query parameters, if any. */
  query?: URLSearchParams;
}

/**
 * A new event id: random, so it never repeats across processes.
 *
 * @example
 * ```ts
 * const id = newEventId(); // a UUID
 * ```
 */
export function newEventId(): string {
  return randomUUID();
}

function params(query: URLSearchParams | undefined): Record<string, string> | undefined {
  if (!query || query.size === 0) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of query) out[k] = v;
  return out;
}

/**
 * Builds the webhook body of a device message.
 *
 * @example
 * ```ts
 * import { webhookEvent } from '@mdmkit/server';
 * const event = webhookEvent('0d6c…', new Date(), {
 *   kind: 'report', status: 'Idle', sender: { udid: 'UDID-1' }, raw: new Uint8Array(),
 * });
 * event.topic; // 'mdm.Connect'
 * ```
 */
export function webhookEvent(eventId: string, createdAt: Date, m: WebhookMessage): WebhookEvent {
  const who = {
    ...(m.sender.udid !== undefined ? { udid: m.sender.udid } : {}),
    ...(m.sender.enrollmentId !== undefined ? { enrollment_id: m.sender.enrollmentId } : {}),
  };
  const url_params = params(m.query);
  const raw_payload = Buffer.from(m.raw.buffer, m.raw.byteOffset, m.raw.byteLength).toString('base64');
  const base = { event_id: eventId, created_at: createdAt.toISOString() };
  if (m.kind === 'checkin') {
    return {
      topic: `mdm.${m.messageType ?? 'Unknown'}`,
      ...base,
      checkin_event: {
        ...who,
        ...(m.tokenUpdateTally !== undefined ? { token_update_tally: m.tokenUpdateTally } : {}),
        ...(url_params ? { url_params } : {}),
        raw_payload,
      },
    };
  }
  return {
    topic: 'mdm.Connect',
    ...base,
    acknowledge_event: {
      ...who,
      status: m.status ?? '',
      command_uuid: m.commandUuid ?? '',
      ...(url_params ? { url_params } : {}),
      raw_payload,
    },
  };
}

/**
 * The outbox row of a device message: its webhook body, serialised once, so every redelivery sends
 * the same bytes under the same signature.
 *
 * @example
 * ```ts
 * const row = outboxEntry(eventId, new Date(), message);
 * await storage.enqueueOutbox([row]);
 * ```
 */
export function outboxEntry(eventId: string, createdAt: Date, m: WebhookMessage): OutboxEventInput {
  const event = webhookEvent(eventId, createdAt, m);
  return {
    id: eventId,
    topic: event.topic,
    payload: new TextEncoder().encode(JSON.stringify(event)),
    createdAt,
  };
}
