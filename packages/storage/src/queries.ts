import type { ChannelType, EnrollmentId, EnrollmentRecord, Page, PageOptions } from './enrollment';

/** Filters for {@link EnrollmentQueries.listEnrollments}; all given filters must match. */
export interface EnrollmentFilter extends PageOptions {
  /** Exactly these ids. */
  ids?: EnrollmentId[];
  /** Ids starting with this prefix (e.g. a UDID to find its user channels too). */
  idPrefix?: string;
  serialNumber?: string;
  channel?: ChannelType;
  enabled?: boolean;
  /** Last seen strictly before (or never seen). */
  lastSeenBefore?: Date;
  /** Last seen at or after. */
  lastSeenAfter?: Date;
}

/** What a pusher needs for one enrollment. */
export interface PushInfo {
  id: EnrollmentId;
  topic: string;
  pushToken: string;
  pushMagic: string;
}

/**
 * Read-only queries for admin APIs and pushers.
 *
 * @example
 * ```ts
 * let page = await storage.listEnrollments({ enabled: true, limit: 500 });
 * while (page.next) page = await storage.listEnrollments({ enabled: true, limit: 500, after: page.next });
 * const push = await storage.getPushInfo(['UDID-1', 'UDID-2']);
 * ```
 */
export interface EnrollmentQueries {
  /** Enrollments matching `filter`, ordered by id, paged by id. */
  listEnrollments(filter?: EnrollmentFilter): Promise<Page<EnrollmentRecord>>;
  /** Push info for the enabled enrollments among `ids` that have a token; unknown or disabled ids are omitted. */
  getPushInfo(ids: EnrollmentId[]): Promise<PushInfo[]>;
}
