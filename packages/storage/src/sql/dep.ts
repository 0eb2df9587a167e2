// What every SQL dialect's DepStore shares: input checks, fencing, the page plan (which devices are
// added, modified or deleted and what each row becomes) and row mapping. Dialects keep only SQL.
import type {
  DepAssignmentRecord,
  DepCursorRecord,
  DepDeviceFilter,
  DepDeviceRecord,
  DepPageInput,
  DepPageResult,
  DepTokenRecord,
} from '../dep';
import { StorageError } from '../errors';
import { checkKey, type StorageLimits } from '../limits';
import { DEVICE_TEXT_FIELDS, MAX_PAGE_DEVICES, OP_TYPES, signature, storableDevice } from '../memory-dep';
import { pageSize } from '../validate';
import { date } from './values';

/**
 * A database value read back as a Date: drivers give Date (pg, mysql2), ms numbers (SQLite) or text.
 *
 * @example
 * ```ts
 * asDate(0)?.toISOString(); // '1970-01-01T00:00:00.000Z'
 * ```
 */
export function asDate(v: unknown): Date | undefined {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date) return new Date(v.getTime());
  return new Date(typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : (v as number | string));
}

const flag = (v: unknown): boolean => v === true || Number(v) === 1;
const text = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));

/** Token columns in the order of {@link depTokenValues}. */
export const depTokenColumns = [
  'name',
  'sealed_credentials',
  'access_token_expiry',
  'base_url',
  'default_profile_uuid',
  'terms_not_signed',
  'last_error',
  'last_sync_at',
  'updated_at',
] as const;

/** A `dep_tokens` row as drivers return it. */
export type DepTokenRow = Record<(typeof depTokenColumns)[number], unknown>;

/**
 * Checks a token before it is stored (same rules as the in-memory store).
 *
 * @example
 * ```ts
 * checkDepToken(DEFAULT_STORAGE_LIMITS, { name: 'main', sealedCredentials, accessTokenExpiry, updatedAt });
 * ```
 */
export function checkDepToken(limits: StorageLimits, record: DepTokenRecord): void {
  checkKey('token name', record?.name, limits.maxKeyLength);
  if (!(record.sealedCredentials instanceof Uint8Array) || record.sealedCredentials.length === 0) {
    throw new StorageError('INVALID_INPUT', 'sealedCredentials must be non-empty bytes');
  }
  if (record.sealedCredentials.length > limits.maxBlobBytes)
    throw new StorageError('PAYLOAD_TOO_LARGE', 'sealedCredentials is too large');
  if (!(record.accessTokenExpiry instanceof Date) || Number.isNaN(record.accessTokenExpiry.getTime())) {
    throw new StorageError('INVALID_INPUT', 'accessTokenExpiry must be a valid Date');
  }
  for (const k of ['baseUrl', 'defaultProfileUuid', 'lastError'] as const) {
    if (record[k] !== undefined && typeof record[k] !== 'string')
      throw new StorageError('INVALID_INPUT', `${k} must be a string`);
  }
  for (const k of ['lastSyncAt', 'updatedAt'] as const) {
    if (record[k] !== undefined) date(k, record[k]);
  }
}

/**
 * A token's values in {@link depTokenColumns} order; `time` converts dates for the driver.
 *
 * @example
 * ```ts
 * const params = depTokenValues(record, (d) => d);
 * ```
 */
export function depTokenValues(r: DepTokenRecord, time: (d: Date) => unknown): unknown[] {
  const t = (d: Date | undefined) => (d === undefined ? null : time(d));
  return [
    r.name,
    r.sealedCredentials,
    time(r.accessTokenExpiry),
    r.baseUrl ?? null,
    r.defaultProfileUuid ?? null,
    r.termsNotSigned === undefined ? null : r.termsNotSigned,
    r.lastError ?? null,
    t(r.lastSyncAt),
    t(r.updatedAt ?? new Date()),
  ];
}

/**
 * A token row as a record; absent optional fields stay absent, as in the in-memory store.
 *
 * @example
 * ```ts
 * const token = toDepToken(row);
 * ```
 */
export function toDepToken(row: DepTokenRow): DepTokenRecord {
  const r: DepTokenRecord = {
    name: String(row.name),
    sealedCredentials: new Uint8Array(row.sealed_credentials as Uint8Array),
    accessTokenExpiry: asDate(row.access_token_expiry)!,
    updatedAt: asDate(row.updated_at)!,
  };
  if (row.base_url != null) r.baseUrl = String(row.base_url);
  if (row.default_profile_uuid != null) r.defaultProfileUuid = String(row.default_profile_uuid);
  if (row.terms_not_signed != null) r.termsNotSigned = flag(row.terms_not_signed);
  if (row.last_error != null) r.lastError = String(row.last_error);
  if (row.last_sync_at != null) r.lastSyncAt = asDate(row.last_sync_at);
  return r;
}

const STATUS_COLUMNS = {
  termsNotSigned: 'terms_not_signed',
  lastError: 'last_error',
  lastSyncAt: 'last_sync_at',
  defaultProfileUuid: 'default_profile_uuid',
} as const;

/**
 * The columns an `updateDepTokenStatus` call sets: a key present with `undefined` clears it, a key
 * absent leaves it alone.
 *
 * @example
 * ```ts
 * depStatusChanges({ lastError: undefined }); // [['last_error', null]]
 * ```
 */
export function depStatusChanges(
  status: Partial<Pick<DepTokenRecord, 'termsNotSigned' | 'lastError' | 'lastSyncAt' | 'defaultProfileUuid'>>,
): [column: string, value: string | boolean | Date | null][] {
  if (typeof status !== 'object' || status === null)
    throw new StorageError('INVALID_INPUT', 'status must be an object');
  const out: [string, string | boolean | Date | null][] = [];
  for (const k of Object.keys(STATUS_COLUMNS) as (keyof typeof STATUS_COLUMNS)[]) {
    if (!(k in status)) continue;
    const v = status[k];
    if (k === 'lastSyncAt' && v !== undefined) date('lastSyncAt', v);
    out.push([STATUS_COLUMNS[k], v ?? null]);
  }
  return out;
}

/**
 * The NOT_FOUND error naming a token.
 *
 * @example
 * ```ts
 * if (!row) throw depTokenNotFound('main');
 * ```
 */
export function depTokenNotFound(name: string): StorageError {
  return new StorageError('NOT_FOUND', `no DEP token ${JSON.stringify(name)}`);
}

/**
 * Checks a fence against the one stored for the token; FENCED when older.
 *
 * @example
 * ```ts
 * checkFence(3, 4); // ok
 * ```
 */
export function checkFence(stored: number, fence: number): void {
  if (!Number.isSafeInteger(fence) || fence < 0)
    throw new StorageError('INVALID_INPUT', 'fence must be a non-negative integer');
  if (fence < stored) throw new StorageError('FENCED', 'fencing token is older than one already written');
}

/**
 * Checks a whole page before anything is written (a page is stored whole or not at all) and returns
 * the page to store: the same, with U+0000 and lone surrogates in device strings replaced (see `storableDevice`).
 *
 * @example
 * ```ts
 * page = checkDepPage(DEFAULT_STORAGE_LIMITS, { tokenName: 'main', fence: 1, cursor: 'c', phase: 'fetch', devices: [] });
 * ```
 */
export function checkDepPage(limits: StorageLimits, input: DepPageInput): DepPageInput {
  if (typeof input !== 'object' || input === null || !Array.isArray(input.devices)) {
    throw new StorageError('INVALID_INPUT', 'a page has a token name, a cursor and a devices array');
  }
  const page: DepPageInput = {
    ...input,
    devices: input.devices.map((d) => (typeof d === 'object' && d !== null ? storableDevice(d) : d)),
  };
  checkKey('token name', page?.tokenName, limits.maxKeyLength);
  checkKey('cursor', page.cursor, limits.maxKeyLength);
  if (page.phase !== 'fetch' && page.phase !== 'sync')
    throw new StorageError('INVALID_INPUT', 'phase must be fetch or sync');
  if (!Array.isArray(page.devices) || page.devices.length > MAX_PAGE_DEVICES) {
    throw new StorageError('INVALID_INPUT', `a page holds at most ${MAX_PAGE_DEVICES} devices`);
  }
  for (const d of page.devices) {
    checkKey('serial number', d?.serialNumber, limits.maxKeyLength);
    if (!OP_TYPES.has(d.opType))
      throw new StorageError('INVALID_INPUT', `opType must be added, modified or deleted`);
    if (d.raw !== undefined && (typeof d.raw !== 'string' || d.raw.length > limits.maxBlobBytes)) {
      throw new StorageError('PAYLOAD_TOO_LARGE', 'raw device JSON is too large');
    }
    for (const k of DEVICE_TEXT_FIELDS) {
      const v = d[k];
      if (v !== undefined && v !== null && typeof v !== 'string')
        throw new StorageError('INVALID_INPUT', `${k} must be a string`);
      if (typeof v === 'string' && v.length > limits.maxBlobBytes)
        throw new StorageError('PAYLOAD_TOO_LARGE', `${k} is too long`);
    }
    for (const k of DATE_FIELDS) if (d[k] !== undefined && d[k] !== null) date(k, d[k]);
  }
  checkFence(0, page.fence);
  return page;
}

/**
 * The distinct serial numbers of a page, in page order.
 *
 * @example
 * ```ts
 * pageSerials(page); // ['C02X', 'C02Y']
 * ```
 */
export function pageSerials(page: DepPageInput): string[] {
  return [...new Set(page.devices.map((d) => d.serialNumber))];
}

/** Device columns in the order of {@link depDeviceValues}. */
export const depDeviceColumns = [
  'token_name',
  'serial_number',
  'op_type',
  'op_date',
  'model',
  'description',
  'color',
  'os',
  'device_family',
  'asset_tag',
  'profile_status',
  'profile_uuid',
  'profile_assign_time',
  'profile_push_time',
  'device_assigned_date',
  'device_assigned_by',
  'raw',
  'deleted',
  'enrolled',
  'enrolled_at',
  'first_seen_at',
  'updated_at',
] as const;

/** A `dep_devices` row as drivers return it. */
export type DepDeviceRow = Record<(typeof depDeviceColumns)[number], unknown>;

const DATE_FIELDS = ['opDate', 'profileAssignTime', 'profilePushTime', 'deviceAssignedDate'] as const;

/**
 * A device's values in {@link depDeviceColumns} order; `time` converts dates and `bool` booleans
 * for the driver.
 *
 * @example
 * ```ts
 * const params = depDeviceValues(record, (d) => d.getTime(), (b) => (b ? 1 : 0));
 * ```
 */
export function depDeviceValues(
  r: DepDeviceRecord,
  time: (d: Date) => unknown,
  bool: (b: boolean) => unknown,
): unknown[] {
  const t = (d: Date | undefined) => (d === undefined || d === null ? null : time(d));
  const s = (v: string | undefined) => v ?? null;
  return [
    r.tokenName,
    r.serialNumber,
    r.opType,
    t(r.opDate),
    s(r.model),
    s(r.description),
    s(r.color),
    s(r.os),
    s(r.deviceFamily),
    s(r.assetTag),
    s(r.profileStatus),
    s(r.profileUuid),
    t(r.profileAssignTime),
    t(r.profilePushTime),
    t(r.deviceAssignedDate),
    s(r.deviceAssignedBy),
    s(r.raw),
    bool(r.deleted),
    bool(r.enrolled),
    t(r.enrolledAt),
    time(r.firstSeenAt),
    time(r.updatedAt),
  ];
}

/**
 * A device row as a record, with the same keys the in-memory store hands out (absent fields are
 * present as `undefined`).
 *
 * @example
 * ```ts
 * const device = toDepDevice(row);
 * ```
 */
export function toDepDevice(row: DepDeviceRow): DepDeviceRecord {
  return {
    tokenName: String(row.token_name),
    serialNumber: String(row.serial_number),
    opType: String(row.op_type) as DepDeviceRecord['opType'],
    opDate: asDate(row.op_date),
    model: text(row.model),
    description: text(row.description),
    color: text(row.color),
    os: text(row.os),
    deviceFamily: text(row.device_family),
    assetTag: text(row.asset_tag),
    profileStatus: text(row.profile_status),
    profileUuid: text(row.profile_uuid),
    profileAssignTime: asDate(row.profile_assign_time),
    profilePushTime: asDate(row.profile_push_time),
    deviceAssignedDate: asDate(row.device_assigned_date),
    deviceAssignedBy: text(row.device_assigned_by),
    raw: text(row.raw),
    deleted: flag(row.deleted),
    enrolled: flag(row.enrolled),
    enrolledAt: asDate(row.enrolled_at),
    firstSeenAt: asDate(row.first_seen_at)!,
    updatedAt: asDate(row.updated_at)!,
  };
}

/** What a page changes: the reported result and every row to write, one per serial number. */
export interface DepPagePlan {
  result: DepPageResult;
  rows: DepDeviceRecord[];
}

/**
 * Decides, from the stored rows of the page's serials, what the page changes: the same rules as the
 * in-memory store (a device back after a deletion is added, one event per device and page, a
 * deleted report keeps what storage knew, a restated device keeps only what storage tracks).
 *
 * @example
 * ```ts
 * const { result, rows } = planDepPage(page, new Map(stored.map((d) => [d.serialNumber, d])), new Date());
 * ```
 */
export function planDepPage(
  page: DepPageInput,
  existing: ReadonlyMap<string, DepDeviceRecord>,
  now: Date,
): DepPagePlan {
  const current = new Map(existing);
  const touched = new Set<string>();
  const result: DepPageResult = { added: [], modified: [], deleted: [] };
  const addedNow = new Set<string>();
  const modifiedNow = new Set<string>();
  for (const d of page.devices) {
    const old = current.get(d.serialNumber);
    // Apple may report a device more than once, not in order: the latest op_date is its state.
    if (old?.opDate && d.opDate && d.opDate.getTime() < old.opDate.getTime()) continue;
    touched.add(d.serialNumber);
    if (d.opType === 'deleted') {
      if (old && !old.deleted) result.deleted.push(d.serialNumber);
      const base = old ?? { tokenName: page.tokenName, enrolled: false, firstSeenAt: now };
      current.set(d.serialNumber, {
        ...base,
        ...d,
        tokenName: page.tokenName,
        deleted: true,
        updatedAt: now,
      });
      continue;
    }
    const fresh = !old || old.deleted;
    if (fresh) {
      result.added.push(d.serialNumber);
      addedNow.add(d.serialNumber);
    } else if (
      !addedNow.has(d.serialNumber) &&
      !modifiedNow.has(d.serialNumber) &&
      signature(old) !== signature(d)
    ) {
      modifiedNow.add(d.serialNumber);
      result.modified.push(d.serialNumber);
    }
    current.set(d.serialNumber, {
      tokenName: page.tokenName,
      serialNumber: d.serialNumber,
      opType: d.opType,
      opDate: d.opDate,
      model: d.model,
      description: d.description,
      color: d.color,
      os: d.os,
      deviceFamily: d.deviceFamily,
      assetTag: d.assetTag,
      profileStatus: d.profileStatus,
      profileUuid: d.profileUuid,
      profileAssignTime: d.profileAssignTime,
      profilePushTime: d.profilePushTime,
      deviceAssignedDate: d.deviceAssignedDate,
      deviceAssignedBy: d.deviceAssignedBy,
      raw: d.raw,
      deleted: false,
      enrolled: old?.enrolled ?? false,
      enrolledAt: old?.enrolledAt,
      firstSeenAt: old?.firstSeenAt ?? now,
      updatedAt: now,
    });
  }
  return { result, rows: [...touched].map((s) => current.get(s)!) };
}

/**
 * The cursor record a page leaves behind.
 *
 * @example
 * ```ts
 * const cursor = toDepCursor({ token_name: 'main', cursor: 'c', phase: 'sync', cursor_fence: 2, cursor_updated_at: new Date() });
 * ```
 */
export function toDepCursor(row: Record<string, unknown>): DepCursorRecord | undefined {
  if (row.cursor === null || row.cursor === undefined) return undefined;
  return {
    tokenName: String(row.token_name ?? row.name),
    cursor: String(row.cursor),
    phase: row.phase === 'sync' ? 'sync' : 'fetch',
    fence: Number(row.cursor_fence),
    updatedAt: asDate(row.cursor_updated_at)!,
  };
}

/**
 * The checked filter of `listDepDevices`.
 *
 * @example
 * ```ts
 * depDeviceFilter({ pending: true }); // { limit: 100, after: null, pending: true, includeDeleted: false }
 * ```
 */
export function depDeviceFilter(filter: DepDeviceFilter = {}): {
  limit: number;
  after: string | null;
  pending: boolean | null;
  includeDeleted: boolean;
} {
  if (typeof filter !== 'object' || filter === null)
    throw new StorageError('INVALID_INPUT', 'filter must be an object');
  if (filter.after !== undefined && typeof filter.after !== 'string')
    throw new StorageError('INVALID_INPUT', 'after must be a string');
  return {
    limit: pageSize(filter),
    after: filter.after ?? null,
    pending: filter.pending === undefined ? null : Boolean(filter.pending),
    includeDeleted: Boolean(filter.includeDeleted),
  };
}

/**
 * Checks an assignment record before it is stored.
 *
 * @example
 * ```ts
 * checkDepAssignment(DEFAULT_STORAGE_LIMITS, { tokenName: 'main', serialNumber: 'C02X', profileUuid: 'P', status: 'SUCCESS', assignedAt: new Date() });
 * ```
 */
export function checkDepAssignment(limits: StorageLimits, record: DepAssignmentRecord): void {
  checkKey('token name', record?.tokenName, limits.maxKeyLength);
  checkKey('serial number', record.serialNumber, limits.maxKeyLength);
  checkKey('profile uuid', record.profileUuid, limits.maxKeyLength);
  checkKey('status', record.status, limits.maxKeyLength);
  date('assignedAt', record.assignedAt);
}

/**
 * An assignment row as a record.
 *
 * @example
 * ```ts
 * const a = toDepAssignment(row);
 * ```
 */
export function toDepAssignment(row: Record<string, unknown>): DepAssignmentRecord {
  return {
    tokenName: String(row.token_name),
    serialNumber: String(row.serial_number),
    profileUuid: String(row.profile_uuid),
    status: String(row.status),
    assignedAt: asDate(row.assigned_at)!,
  };
}

/**
 * The row limit of `listDepDevicesAwaitingProfile` (1..1000, default 1000).
 *
 * @example
 * ```ts
 * awaitingLimit(5000); // 1000
 * ```
 */
export function awaitingLimit(limit: unknown = 1000): number {
  return pageSize({ limit: typeof limit === 'number' ? limit : undefined });
}

/**
 * A page of devices from `limit + 1` rows in serial order.
 *
 * @example
 * ```ts
 * const page = depDevicePage(rows, 100);
 * ```
 */
export function depDevicePage(
  rows: readonly DepDeviceRow[],
  limit: number,
): { items: DepDeviceRecord[]; next?: string } {
  const items = rows.slice(0, limit).map(toDepDevice);
  return rows.length > limit ? { items, next: items.at(-1)!.serialNumber } : { items };
}
