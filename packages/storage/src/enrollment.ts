import type { OutboxWrite } from './outbox';

/**
 * Enrollment ids are opaque to storage. mdmkit's protocol package forms them like NanoMDM does: the
 * device UDID (or EnrollmentID for User Enrollment) for the device channel and `UDID:UserID` (or
 * `EnrollmentID:EnrollmentUserID`) for a user channel.
 */
export type EnrollmentId = string;

/** Which MDM channel an enrollment id names. */
export type ChannelType = 'device' | 'user';

/** What storage keeps about one channel of one enrollment. */
export interface EnrollmentRecord {
  id: EnrollmentId;
  channel: ChannelType;
  /** The enrollment id of the device channel this channel belongs to (equal to `id` for a device channel). */
  deviceId: EnrollmentId;
  /** Device serial number as reported in Authenticate, when known. */
  serialNumber?: string;
  /** User channel: the user's id (UserID / EnrollmentUserID). */
  userId?: string;
  /** User channel: the short name, when reported. */
  userShortName?: string;
  /** User channel: the long name, when reported. */
  userLongName?: string;
  /** APNs topic the device listens on (the push certificate's UID). */
  topic?: string;
  /** APNs device token as lowercase hex. */
  pushToken?: string;
  pushMagic?: string;
  /** UnlockToken from the device channel's TokenUpdate, as received (seal it first if you keep it long). */
  unlockToken?: Uint8Array;
  /** True between a TokenUpdate and the next Authenticate or CheckOut. */
  enabled: boolean;
  /** TokenUpdates since the last Authenticate; 1 means the enrollment has just completed. */
  tokenUpdateTally: number;
  /** Last time the enrollment talked to the server; coalesced, so up to the configured interval stale. */
  lastSeenAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** The storage effect of a device channel's Authenticate message. */
export interface AuthenticateInput extends OutboxWrite {
  /** Device channel enrollment id. */
  id: EnrollmentId;
  serialNumber?: string;
  topic?: string;
  /** The raw check-in message, kept for audit and re-processing. */
  raw?: Uint8Array;
}

/** The storage effect of a TokenUpdate on either channel. */
export interface TokenUpdateInput extends OutboxWrite {
  id: EnrollmentId;
  channel: ChannelType;
  /** Device channel enrollment id; defaults to `id` for a device channel. Required for a user channel. */
  deviceId?: EnrollmentId;
  userId?: string;
  userShortName?: string;
  userLongName?: string;
  topic: string;
  /** Lowercase hex APNs token. */
  pushToken: string;
  pushMagic: string;
  unlockToken?: Uint8Array;
  raw?: Uint8Array;
}

/** The storage effect of a UserAuthenticate message (records the user channel before its TokenUpdate). */
export interface UserAuthenticateInput extends OutboxWrite {
  id: EnrollmentId;
  deviceId: EnrollmentId;
  userId?: string;
  userShortName?: string;
  userLongName?: string;
  raw?: Uint8Array;
}

/** One enrollment with everything that moves with it between storage backends. */
export interface EnrollmentExport {
  enrollment: EnrollmentRecord;
  bootstrapToken?: Uint8Array;
  /** Identity-certificate hashes associated with this enrollment. */
  certificateHashes: string[];
}

/** A page of results keyed by id; pass `next` as `after` to fetch the following page. */
export interface Page<T> {
  items: T[];
  /** Set when more items may follow. */
  next?: string;
}

/** Options shared by paged calls. */
export interface PageOptions {
  /** Return items whose key sorts strictly after this value. */
  after?: string;
  /** Page size; adapters cap it at 1000. Default 100. */
  limit?: number;
}

/**
 * The effects of check-in messages on enrollment state, plus bootstrap tokens, last seen and
 * identity-certificate association.
 *
 * @example
 * ```ts
 * await storage.authenticate({ id: udid, serialNumber: 'C02XXXX', topic });
 * await storage.tokenUpdate({ id: udid, channel: 'device', topic, pushToken, pushMagic });
 * const e = await storage.getEnrollment(udid); // e.enabled === true, e.tokenUpdateTally === 1
 * ```
 */
export interface EnrollmentStore
  extends CheckInStore,
    EnrollmentLookup,
    BootstrapTokenStore,
    CertificateAssociationStore,
    EnrollmentTransfer {}

/**
 * The check-in messages that change an enrollment's state. What a check-in endpoint needs.
 *
 * @example
 * ```ts
 * import type { CheckInStore } from '@mdmkit/storage';
 * async function onAuthenticate(store: CheckInStore, udid: string, topic: string) {
 *   await store.authenticate({ id: udid, topic });
 * }
 * ```
 */
export interface CheckInStore {
  /**
   * Records a device Authenticate, which starts the enrollment over: the device channel and its user
   * channels are disabled with their TokenUpdate tallies reset to 0, and their queues are cleared
   * (stored results stay). Every adapter does all of it in one transaction.
   */
  authenticate(input: AuthenticateInput): Promise<void>;
  /** Records a TokenUpdate: stores push info, enables the channel, increments the tally. Returns the new tally. */
  tokenUpdate(input: TokenUpdateInput): Promise<number>;
  /** Records a UserAuthenticate: creates (disabled) or updates the user channel. */
  userAuthenticate(input: UserAuthenticateInput): Promise<void>;
  /**
   * Records a CheckOut: disables the channel; for a device channel, its user channels too. Events in
   * `options.outbox` are stored in the same transaction.
   */
  checkOut(id: EnrollmentId, options?: OutboxWrite): Promise<void>;
}

/**
 * Reading one enrollment and noting that it was seen.
 *
 * @example
 * ```ts
 * import type { EnrollmentLookup } from '@mdmkit/storage';
 * const isEnabled = async (store: EnrollmentLookup, id: string) => (await store.getEnrollment(id))?.enabled === true;
 * ```
 */
export interface EnrollmentLookup {
  getEnrollment(id: EnrollmentId): Promise<EnrollmentRecord | undefined>;
  /**
   * Notes that the enrollment was seen at `at` (default now). Writes at most once per enrollment per
   * the adapter's `lastSeenIntervalMs`, so per-request calls stay cheap and never contend.
   * Returns whether a write happened.
   */
  touchLastSeen(id: EnrollmentId, at?: Date): Promise<boolean>;
}

/**
 * Bootstrap tokens, stored sealed (`@mdmkit/crypto`).
 *
 * @example
 * ```ts
 * import type { BootstrapTokenStore } from '@mdmkit/storage';
 * const hasToken = async (store: BootstrapTokenStore, id: string) => (await store.getBootstrapToken(id)) !== undefined;
 * ```
 */
export interface BootstrapTokenStore {
  /** Stores a bootstrap token (seal it with `@mdmkit/crypto` first). Throws NOT_FOUND for an unknown enrollment. */
  putBootstrapToken(id: EnrollmentId, token: Uint8Array): Promise<void>;
  getBootstrapToken(id: EnrollmentId): Promise<Uint8Array | undefined>;
}

/**
 * Binding identity certificates to enrollments: what request authentication needs.
 *
 * @example
 * ```ts
 * import type { CertificateAssociationStore } from '@mdmkit/storage';
 * const owner = (store: CertificateAssociationStore, hash: string) => store.enrollmentForCertificate(hash);
 * ```
 */
export interface CertificateAssociationStore {
  /**
   * Binds an identity-certificate hash (lowercase hex SHA-256 of the DER) to an enrollment. Binding the
   * same pair again is a no-op; a hash already bound to a different enrollment throws CONFLICT.
   */
  associateCertificate(id: EnrollmentId, certHash: string): Promise<void>;
  /**
   * Binds `certHash` to `id` as its only identity: every other hash bound to `id` is unbound in the
   * same transaction, so a re-enrolled device's old certificate stops being accepted for it. A hash
   * already bound to a different enrollment throws CONFLICT and changes nothing.
   */
  replaceCertificate(id: EnrollmentId, certHash: string): Promise<void>;
  /** The enrollment a certificate hash is bound to. */
  enrollmentForCertificate(certHash: string): Promise<EnrollmentId | undefined>;
  /** Whether `certHash` is bound to `id`. */
  isCertificateAssociated(id: EnrollmentId, certHash: string): Promise<boolean>;
}

/**
 * Moving enrollments between backends.
 *
 * @example
 * ```ts
 * import type { EnrollmentTransfer } from '@mdmkit/storage';
 * async function copyAll(from: EnrollmentTransfer, to: EnrollmentTransfer) {
 *   let after: string | undefined;
 *   do {
 *     const page = await from.exportEnrollments({ after });
 *     await to.importEnrollments(page.items);
 *     after = page.next;
 *   } while (after);
 * }
 * ```
 */
export interface EnrollmentTransfer {
  /** Exports enrollments paged by id, for moving between backends. */
  exportEnrollments(options?: PageOptions): Promise<Page<EnrollmentExport>>;
  /** Imports enrollments (upsert by id). Returns how many were written. */
  importEnrollments(items: EnrollmentExport[]): Promise<number>;
}
