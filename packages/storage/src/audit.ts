import type { Page, PageOptions } from './enrollment';

/** Input of {@link AuditEventStore.appendAuditEvent}. */
export interface AuditEventInput {
  /** Who did it: a user name, an API client id. Never empty. */
  actor: string;
  /** What was done, e.g. `secret.read`. */
  action: string;
  /** Whose data it concerned: a device UDID or other owner id. */
  owner: string;
  /** Which kind of data, e.g. `filevault-prk`. */
  kind: string;
  /** Why, as the actor stated it. */
  reason: string;
  /** When; default now. */
  at?: Date;
}

/** One recorded event. */
export interface AuditEvent extends Required<AuditEventInput> {
  /** Assigned by the store; later events get greater ids (compare as strings of equal length). */
  id: string;
}

/** Options of {@link AuditEventStore.listAuditEvents}; `after` is the `next` cursor of the previous page. */
export interface ListAuditEventsOptions extends PageOptions {
  owner?: string;
  actor?: string;
}

/**
 * An append-only log of who read or changed which secret. Events are never updated or deleted
 * through this interface.
 *
 * @example
 * ```ts
 * await storage.appendAuditEvent({ actor: 'alice', action: 'secret.read', owner: udid, kind: 'filevault-prk', reason: 'locked out' });
 * const { items } = await storage.listAuditEvents({ owner: udid });
 * ```
 */
export interface AuditEventStore {
  /** Records the event durably before resolving. */
  appendAuditEvent(event: AuditEventInput): Promise<AuditEvent>;
  /** Events in the order they were appended. */
  listAuditEvents(options?: ListAuditEventsOptions): Promise<Page<AuditEvent>>;
}
