import type { EnrollmentId, Page, PageOptions } from './enrollment';

/** A named declaration set as stored: the declarations as one JSON array, exactly as given. */
export interface DeclarationSetRecord {
  name: string;
  /** JSON array of declarations (`@mdmkit/declarative` builds and checks them; storage keeps text). */
  declarations: string;
  /** Bumped on every put: the DDM `SyncTokens.Timestamp` of the set. */
  updatedAt: Date;
}

/**
 * Named declaration sets (one per enrollment, or one per group of enrollments).
 *
 * @example
 * ```ts
 * await storage.putDeclarationSet('group:finance', JSON.stringify([passcodeDeclaration]));
 * const set = await storage.getDeclarationSet('group:finance');
 * ```
 */
export interface DeclarationSetStore {
  /** Stores or replaces a set. Throws INVALID_INPUT for a name or JSON over the limits. */
  putDeclarationSet(name: string, declarations: string, at?: Date): Promise<DeclarationSetRecord>;
  getDeclarationSet(name: string): Promise<DeclarationSetRecord | undefined>;
  /** Removes a set and every assignment of it. True when a set went. */
  deleteDeclarationSet(name: string): Promise<boolean>;
}

/**
 * Which enrollments hold which declaration sets. A set assigned to several enrollments is a group's set.
 *
 * @example
 * ```ts
 * await storage.assignDeclarationSet('group:finance', ['UDID-1', 'UDID-2']);
 * await storage.declarationSetsOf('UDID-1'); // ['group:finance']
 * ```
 */
export interface DeclarationAssignmentStore {
  /** Assigns a set to enrollments; assigning again is a no-op. The set need not exist yet. */
  assignDeclarationSet(name: string, enrollmentIds: readonly EnrollmentId[]): Promise<void>;
  /** Removes assignments; returns how many went. */
  unassignDeclarationSet(name: string, enrollmentIds: readonly EnrollmentId[]): Promise<number>;
  /** The names of the sets assigned to an enrollment, in binary order. */
  declarationSetsOf(enrollmentId: EnrollmentId): Promise<string[]>;
  /** The enrollments a set is assigned to, paged by id. */
  enrollmentsWithDeclarationSet(name: string, options?: PageOptions): Promise<Page<EnrollmentId>>;
}

/** One stored DDM status report. */
export interface DdmStatusRecord {
  /** Assigned by the store; greater for later reports of the same enrollment (string of digits). */
  id: string;
  enrollmentId: EnrollmentId;
  /** The parsed report as JSON (typed items, kept raw ones and their issues). */
  report: string;
  receivedAt: Date;
}

/**
 * DDM status reports with their history.
 *
 * @example
 * ```ts
 * await storage.appendDdmStatus('UDID-1', JSON.stringify(parsedReport));
 * const latest = (await storage.listDdmStatus('UDID-1', { limit: 1 })).items[0];
 * ```
 */
export interface DdmStatusStore {
  appendDdmStatus(enrollmentId: EnrollmentId, report: string, at?: Date): Promise<DdmStatusRecord>;
  /** Newest first; `after` is the `next` of the previous page (older reports follow). */
  listDdmStatus(enrollmentId: EnrollmentId, options?: PageOptions): Promise<Page<DdmStatusRecord>>;
}

/** How an identity certificate came to be trusted. */
export type IdentityTrust = 'issued' | 'migrated';

/** An identity certificate known to belong to an enrollment, with its expiry. */
export interface IdentityCertificateRecord {
  /** Lowercase hex SHA-256 of the DER. */
  hash: string;
  enrollmentId: EnrollmentId;
  notAfter: Date;
  /**
   * `issued`: chains to a CA the server trusts. `migrated`: imported from another MDM and trusted as
   * this exact certificate for this enrollment only, whatever CA issued it.
   */
  trust: IdentityTrust;
  /** Set when a renewed certificate replaced this one: it stops being accepted at this time. */
  retireAt?: Date;
}

/**
 * Identity certificates by hash: expiry for renewal, retirement after renewal, and pinned trust of
 * migrated ones.
 *
 * @example
 * ```ts
 * await storage.putIdentityCertificate({ hash, enrollmentId: 'UDID-1', notAfter, trust: 'issued' });
 * const soon = await storage.listExpiringIdentityCertificates(new Date(Date.now() + 30 * 86_400_000));
 * ```
 */
export interface IdentityCertificateStore {
  /** Stores or replaces the record of a certificate (by hash). */
  putIdentityCertificate(record: IdentityCertificateRecord): Promise<void>;
  getIdentityCertificate(hash: string): Promise<IdentityCertificateRecord | undefined>;
  /** Certificates not retired whose `notAfter` is before `before`, paged by hash. */
  listExpiringIdentityCertificates(
    before: Date,
    options?: PageOptions,
  ): Promise<Page<IdentityCertificateRecord>>;
  /** Sets `retireAt` on the enrollment's other certificates that have none; returns how many. */
  retireIdentityCertificates(enrollmentId: EnrollmentId, keepHash: string, retireAt: Date): Promise<number>;
}

/** A deliberate block of an enrollment. */
export interface EnrollmentBlockRecord {
  enrollmentId: EnrollmentId;
  actor: string;
  reason: string;
  blockedAt: Date;
}

/**
 * Enrollments blocked on purpose: their check-ins are answered 401.
 *
 * @example
 * ```ts
 * await storage.blockEnrollment({ enrollmentId: 'UDID-1', actor: 'alice', reason: 'reported stolen' });
 * await storage.getEnrollmentBlock('UDID-1'); // { enrollmentId: 'UDID-1', actor: 'alice', … }
 * ```
 */
export interface EnrollmentBlockStore {
  /** Blocks (or re-blocks, replacing actor and reason). */
  blockEnrollment(input: {
    enrollmentId: EnrollmentId;
    actor: string;
    reason: string;
    at?: Date;
  }): Promise<EnrollmentBlockRecord>;
  /** True when a block went. */
  unblockEnrollment(enrollmentId: EnrollmentId): Promise<boolean>;
  getEnrollmentBlock(enrollmentId: EnrollmentId): Promise<EnrollmentBlockRecord | undefined>;
}

/** Every store of an enrollment's later life, as one type. */
export type LifecycleStores = DeclarationSetStore &
  DeclarationAssignmentStore &
  DdmStatusStore &
  IdentityCertificateStore &
  EnrollmentBlockStore;
