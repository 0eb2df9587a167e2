// Storage for Automated Device Enrollment (ABM/DEP): server tokens, sync cursors, the devices a
// sync reports and the profile assignments made to them.
import type { Page, PageOptions } from './enrollment';

/** One ABM server token ("MDM server" in Apple Business Manager) and its sync settings. */
export interface DepTokenRecord {
  /** Our name for the token; the key of everything else here. */
  name: string;
  /**
   * The OAuth credentials, sealed with `@mdmkit/crypto`'s `sealSecret` (owner = name,
   * kind = `dep-token`). Storage keeps the bytes opaque and never sees the plain credentials.
   */
  sealedCredentials: Uint8Array;
  /** When Apple stops accepting the token. */
  accessTokenExpiry: Date;
  /** DEP API base URL for this token (Apple's, a proxy or a mock); undefined = Apple's. */
  baseUrl?: string;
  /** The enrollment profile newly added devices get (the token's "default team"). */
  defaultProfileUuid?: string;
  /** Set by the syncer when Apple answered `T_C_NOT_SIGNED`, cleared after the next good call. */
  termsNotSigned?: boolean;
  /** Last failure of the syncer, for an admin (no secret in it). */
  lastError?: string;
  lastSyncAt?: Date;
  updatedAt: Date;
}

/** Where a token's sync stands. */
export interface DepCursorRecord {
  tokenName: string;
  /** Apple's cursor after the last stored page. */
  cursor: string;
  /** `fetch` while the first full listing is under way; `sync` afterwards. */
  phase: 'fetch' | 'sync';
  /** The fencing token of the write that stored it. */
  fence: number;
  updatedAt: Date;
}

/** Change kinds Apple's sync reports; a fetch counts as `added`. */
export type DepOpType = 'added' | 'modified' | 'deleted';

/** A device as one page of a fetch or sync reported it. */
export interface DepDeviceInput {
  serialNumber: string;
  opType: DepOpType;
  opDate?: Date;
  model?: string;
  description?: string;
  color?: string;
  os?: string;
  deviceFamily?: string;
  assetTag?: string;
  profileStatus?: string;
  profileUuid?: string;
  profileAssignTime?: Date;
  profilePushTime?: Date;
  deviceAssignedDate?: Date;
  deviceAssignedBy?: string;
  /** The device exactly as Apple sent it (JSON), so nothing newer than our types is lost. */
  raw?: string;
}

/** A stored device. */
export interface DepDeviceRecord extends DepDeviceInput {
  tokenName: string;
  /** True once Apple reported it deleted (disowned or moved to another MDM server); kept for history. */
  deleted: boolean;
  /** True after the device's first check-in here; until then a server shows it as "Pending". */
  enrolled: boolean;
  enrolledAt?: Date;
  firstSeenAt: Date;
  updatedAt: Date;
}

/** One page to store: devices and the cursor that follows them, written together or not at all. */
export interface DepPageInput {
  tokenName: string;
  /**
   * The fencing token of the writer's lease. A page with a fence lower than one already written for
   * this token fails with FENCED, so a replica that lost its lease cannot overwrite newer state.
   */
  fence: number;
  cursor: string;
  phase: 'fetch' | 'sync';
  devices: readonly DepDeviceInput[];
}

/** What storing a page changed, as storage saw it. */
export interface DepPageResult {
  /** Serials new to storage (or back after a deletion). */
  added: string[];
  modified: string[];
  deleted: string[];
}

/** The outcome of a profile assignment to one device. */
export interface DepAssignmentRecord {
  tokenName: string;
  serialNumber: string;
  profileUuid: string;
  /** Apple's per-device answer (`SUCCESS`, `NOT_ACCESSIBLE`, `FAILED`, …). */
  status: string;
  assignedAt: Date;
}

/** Filters of {@link DepStore.listDepDevices}. */
export interface DepDeviceFilter extends PageOptions {
  /** Only devices not yet enrolled (true) or enrolled (false). */
  pending?: boolean;
  /** Include devices Apple reported deleted. Default false. */
  includeDeleted?: boolean;
}

/**
 * Tokens, cursors, devices and profile assignments of Automated Device Enrollment. Every write of a
 * page is atomic (devices and cursor together) and fenced, so the cursor never runs ahead of the
 * devices it covers and a replica killed mid-sync leaves the cursor where its last page left it.
 *
 * @example
 * ```ts
 * await store.putDepToken({ name: 'main', sealedCredentials, accessTokenExpiry, updatedAt: new Date() });
 * await store.applyDepPage({ tokenName: 'main', fence: lease.token, cursor, phase: 'fetch', devices });
 * const { items } = await store.listDepDevices('main', { pending: true });
 * ```
 */
export interface DepStore {
  /** Creates or replaces a token. */
  putDepToken(record: DepTokenRecord): Promise<void>;
  getDepToken(name: string): Promise<DepTokenRecord | undefined>;
  listDepTokens(): Promise<DepTokenRecord[]>;
  /** Changes the sync status fields of a token; NOT_FOUND if absent. */
  updateDepTokenStatus(
    name: string,
    status: Partial<
      Pick<DepTokenRecord, 'termsNotSigned' | 'lastError' | 'lastSyncAt' | 'defaultProfileUuid'>
    >,
  ): Promise<void>;
  /** Removes a token with its cursor, devices and assignments. Returns whether it existed. */
  deleteDepToken(name: string): Promise<boolean>;

  getDepCursor(tokenName: string): Promise<DepCursorRecord | undefined>;
  /** Forgets the cursor (the next sync starts with a full fetch); fenced like a page. */
  resetDepCursor(tokenName: string, fence: number): Promise<void>;
  /**
   * Stores one page and its cursor atomically; fenced. A device reported with an `opDate` older than
   * the one stored is skipped (Apple may repeat a device out of order; the latest `op_date` wins).
   * Every U+0000 and lone UTF-16 surrogate in a device's strings (serial number included) is stored,
   * and reported, as U+FFFD in every store, since PostgreSQL text cannot hold the one and no UTF-8
   * driver can send the other; a page is never refused for them.
   */
  applyDepPage(page: DepPageInput): Promise<DepPageResult>;

  getDepDevice(tokenName: string, serialNumber: string): Promise<DepDeviceRecord | undefined>;
  /** Devices of a token in serial-number order. */
  listDepDevices(tokenName: string, filter?: DepDeviceFilter): Promise<Page<DepDeviceRecord>>;
  /** Marks a device enrolled (first check-in) under every token that lists it; returns how many records changed. */
  markDepDeviceEnrolled(serialNumber: string, at?: Date): Promise<number>;

  /** Records Apple's answer to assigning a profile to a device. */
  /**
   * Records Apple's answer for one device's profile assignment; fenced like a page, so a replica
   * whose lease was taken over while it waited for Apple cannot overwrite what the new holder wrote.
   */
  recordDepAssignment(record: DepAssignmentRecord, fence: number): Promise<void>;
  getDepAssignment(tokenName: string, serialNumber: string): Promise<DepAssignmentRecord | undefined>;
  /**
   * Devices that should get the default profile: not deleted, no profile at Apple
   * (`profileStatus` empty, absent or `removed`) and no recorded assignment; serial order.
   */
  listDepDevicesAwaitingProfile(tokenName: string, limit?: number): Promise<DepDeviceRecord[]>;
}

/**
 * True when a storage handle implements {@link DepStore} (adapters gain it one by one).
 *
 * @example
 * ```ts
 * if (!isDepStore(storage)) throw new Error('this storage adapter has no DEP support yet');
 * ```
 */
export function isDepStore(s: unknown): s is DepStore {
  return typeof s === 'object' && s !== null && typeof (s as DepStore).applyDepPage === 'function';
}
