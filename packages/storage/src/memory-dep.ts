// The in-memory DepStore: the reference behaviour the conformance suite holds SQL adapters to.
import type {
  DepAssignmentRecord,
  DepCursorRecord,
  DepDeviceFilter,
  DepDeviceInput,
  DepDeviceRecord,
  DepPageInput,
  DepPageResult,
  DepStore,
  DepTokenRecord,
} from './dep';
import type { Page } from './enrollment';
import { StorageError } from './errors';
import { checkKey, DEFAULT_STORAGE_LIMITS, resolveLimits, type StorageLimits } from './limits';
import { pageSize } from './validate';

export const OP_TYPES = new Set(['added', 'modified', 'deleted']);
export const MAX_PAGE_DEVICES = 10_000;

interface TokenState {
  token: DepTokenRecord;
  fence: number;
  cursor?: DepCursorRecord;
  devices: Map<string, DepDeviceRecord>;
  assignments: Map<string, DepAssignmentRecord>;
}

const copyDate = (d: Date | undefined): Date | undefined =>
  d === undefined ? undefined : new Date(d.getTime());

function copyDevice(d: DepDeviceRecord): DepDeviceRecord {
  const out: DepDeviceRecord = {
    ...d,
    firstSeenAt: new Date(d.firstSeenAt),
    updatedAt: new Date(d.updatedAt),
  };
  for (const k of [
    'opDate',
    'profileAssignTime',
    'profilePushTime',
    'deviceAssignedDate',
    'enrolledAt',
  ] as const) {
    if (d[k] !== undefined) out[k] = copyDate(d[k]);
  }
  return out;
}

/** The free-text fields of a device (besides its serial number and raw JSON). */
export const DEVICE_TEXT_FIELDS = [
  'model',
  'description',
  'color',
  'os',
  'deviceFamily',
  'assetTag',
  'profileStatus',
  'profileUuid',
  'deviceAssignedBy',
] as const;
const SIGNATURE_KEYS = [
  ...DEVICE_TEXT_FIELDS,
  'profileAssignTime',
  'profilePushTime',
  'deviceAssignedDate',
] as const;

/**
 * One stored device with a fixed shape (every object shares one hidden class) and the low-variety
 * strings (model, OS, colour, …) shared through `intern`: a 100 000-device inventory otherwise
 * costs several times the JSON it came from.
 */
function makeRecord(
  d: DepDeviceInput,
  tokenName: string,
  deleted: boolean,
  enrolled: boolean,
  enrolledAt: Date | undefined,
  firstSeenAt: Date,
  updatedAt: Date,
  intern: (s: string | undefined) => string | undefined,
): DepDeviceRecord {
  const r: DepDeviceRecord = {
    tokenName,
    serialNumber: d.serialNumber,
    opType: d.opType,
    opDate: d.opDate,
    model: intern(d.model),
    description: intern(d.description),
    color: intern(d.color),
    os: intern(d.os),
    deviceFamily: intern(d.deviceFamily),
    assetTag: d.assetTag,
    profileStatus: intern(d.profileStatus),
    profileUuid: intern(d.profileUuid),
    profileAssignTime: d.profileAssignTime,
    profilePushTime: d.profilePushTime,
    deviceAssignedDate: d.deviceAssignedDate,
    deviceAssignedBy: intern(d.deviceAssignedBy),
    raw: d.raw,
    deleted,
    enrolled,
    enrolledAt,
    firstSeenAt,
    updatedAt,
  };
  return r;
}

/**
 * What no store can keep as sent: U+0000 (PostgreSQL text cannot hold it) and lone UTF-16
 * surrogates (every SQL driver sends UTF-8, which cannot encode them, so they would arrive as U+FFFD
 * there and as sent in memory).
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const UNSTORABLE_TEST = new RegExp(UNSTORABLE.source);
const DEVICE_STRINGS = ['serialNumber', ...DEVICE_TEXT_FIELDS, 'raw'] as const;

/**
 * The device with every U+0000 and lone surrogate in its strings replaced by U+FFFD. Every store
 * does this (one behaviour everywhere, and what a page reports is what was stored) rather than
 * failing the page, which would stop the sync at that page for good. Apple's JSON escapes U+0000,
 * so `raw` still says what was sent. Returns the same object when there is nothing to replace.
 *
 * @example
 * ```ts
 * storableDevice({ serialNumber: 'C02\u0000X', opType: 'added' }).serialNumber; // 'C02\uFFFDX'
 * ```
 */
export function storableDevice(d: DepDeviceInput): DepDeviceInput {
  let out: DepDeviceInput | undefined;
  for (const k of DEVICE_STRINGS) {
    const v = d[k];
    if (typeof v === 'string' && UNSTORABLE_TEST.test(v)) {
      out ??= { ...d };
      (out as unknown as Record<string, string>)[k] = v.replace(UNSTORABLE, '\uFFFD');
    }
  }
  return out ?? d;
}

/** The fields a page reports, to tell a real modification from a device listed again unchanged. */
export function signature(d: DepDeviceInput): string {
  const fields: Record<string, unknown> = {};
  for (const k of SIGNATURE_KEYS) fields[k] = d[k] instanceof Date ? (d[k] as Date).getTime() : d[k];
  return JSON.stringify(fields);
}

/**
 * {@link DepStore} in memory, for tests, examples and single-process servers that need no persistence.
 *
 * @example
 * ```ts
 * import { MemoryDepStore } from '@mdmkit/storage';
 * const store = new MemoryDepStore();
 * console.log((await store.listDepTokens()).length); // 0
 * ```
 */
export class MemoryDepStore implements DepStore {
  readonly #tokens = new Map<string, TokenState>();
  readonly #limits: StorageLimits;
  readonly #strings = new Map<string, string>();
  readonly #intern = (v: string | undefined): string | undefined => {
    if (v === undefined || v.length > 64) return v;
    const known = this.#strings.get(v);
    if (known !== undefined) return known;
    if (this.#strings.size < 100_000) this.#strings.set(v, v);
    return v;
  };

  constructor(options: { limits?: Partial<StorageLimits> } = {}) {
    this.#limits = options.limits ? resolveLimits(options.limits) : DEFAULT_STORAGE_LIMITS;
  }

  #key(what: string, v: unknown): asserts v is string {
    checkKey(what, v, this.#limits.maxKeyLength);
  }

  #state(name: string): TokenState {
    this.#key('token name', name);
    const s = this.#tokens.get(name);
    if (!s) throw new StorageError('NOT_FOUND', `no DEP token ${JSON.stringify(name)}`);
    return s;
  }

  #fence(s: TokenState, fence: number): void {
    if (!Number.isSafeInteger(fence) || fence < 0)
      throw new StorageError('INVALID_INPUT', 'fence must be a non-negative integer');
    if (fence < s.fence) throw new StorageError('FENCED', 'fencing token is older than one already written');
    s.fence = fence;
  }

  async putDepToken(record: DepTokenRecord): Promise<void> {
    this.#key('token name', record?.name);
    if (!(record.sealedCredentials instanceof Uint8Array) || record.sealedCredentials.length === 0) {
      throw new StorageError('INVALID_INPUT', 'sealedCredentials must be non-empty bytes');
    }
    if (record.sealedCredentials.length > this.#limits.maxBlobBytes)
      throw new StorageError('PAYLOAD_TOO_LARGE', 'sealedCredentials is too large');
    if (!(record.accessTokenExpiry instanceof Date) || Number.isNaN(record.accessTokenExpiry.getTime())) {
      throw new StorageError('INVALID_INPUT', 'accessTokenExpiry must be a valid Date');
    }
    const token: DepTokenRecord = { ...record, sealedCredentials: Uint8Array.from(record.sealedCredentials) };
    const s = this.#tokens.get(record.name);
    if (s) s.token = token;
    else this.#tokens.set(record.name, { token, fence: 0, devices: new Map(), assignments: new Map() });
  }

  async getDepToken(name: string): Promise<DepTokenRecord | undefined> {
    this.#key('token name', name);
    const t = this.#tokens.get(name)?.token;
    return t && { ...t, sealedCredentials: Uint8Array.from(t.sealedCredentials) };
  }

  async listDepTokens(): Promise<DepTokenRecord[]> {
    return [...this.#tokens.keys()].sort().map((n) => {
      const t = this.#tokens.get(n)!.token;
      return { ...t, sealedCredentials: Uint8Array.from(t.sealedCredentials) };
    });
  }

  async updateDepTokenStatus(
    name: string,
    status: Partial<
      Pick<DepTokenRecord, 'termsNotSigned' | 'lastError' | 'lastSyncAt' | 'defaultProfileUuid'>
    >,
  ): Promise<void> {
    const s = this.#state(name);
    const next = { ...s.token, updatedAt: new Date() };
    for (const k of ['termsNotSigned', 'lastError', 'lastSyncAt', 'defaultProfileUuid'] as const) {
      if (!(k in status)) continue;
      if (status[k] === undefined) delete next[k];
      else (next as Record<string, unknown>)[k] = status[k];
    }
    s.token = next;
  }

  async deleteDepToken(name: string): Promise<boolean> {
    this.#key('token name', name);
    return this.#tokens.delete(name);
  }

  async getDepCursor(tokenName: string): Promise<DepCursorRecord | undefined> {
    const c = this.#state(tokenName).cursor;
    return c && { ...c, updatedAt: new Date(c.updatedAt) };
  }

  async resetDepCursor(tokenName: string, fence: number): Promise<void> {
    const s = this.#state(tokenName);
    this.#fence(s, fence);
    s.cursor = undefined;
  }

  async applyDepPage(page: DepPageInput): Promise<DepPageResult> {
    const s = this.#state(page?.tokenName);
    this.#key('cursor', page.cursor);
    if (page.phase !== 'fetch' && page.phase !== 'sync')
      throw new StorageError('INVALID_INPUT', 'phase must be fetch or sync');
    if (!Array.isArray(page.devices) || page.devices.length > MAX_PAGE_DEVICES) {
      throw new StorageError('INVALID_INPUT', `a page holds at most ${MAX_PAGE_DEVICES} devices`);
    }
    const devices = page.devices.map((d) => (typeof d === 'object' && d !== null ? storableDevice(d) : d));
    // Validate everything before changing anything: a page is stored whole or not at all.
    for (const d of devices) {
      this.#key('serial number', d?.serialNumber);
      if (!OP_TYPES.has(d.opType))
        throw new StorageError('INVALID_INPUT', `opType must be added, modified or deleted`);
      if (d.raw !== undefined && (typeof d.raw !== 'string' || d.raw.length > this.#limits.maxBlobBytes)) {
        throw new StorageError('PAYLOAD_TOO_LARGE', 'raw device JSON is too large');
      }
    }
    this.#fence(s, page.fence);
    const now = new Date();
    const result: DepPageResult = { added: [], modified: [], deleted: [] };
    const addedNow = new Set<string>();
    const modifiedNow = new Set<string>();
    for (const d of devices) {
      const old = s.devices.get(d.serialNumber);
      // Apple may report a device more than once, not in order: the latest op_date is its state.
      if (old?.opDate && d.opDate && d.opDate.getTime() < old.opDate.getTime()) continue;
      if (d.opType === 'deleted') {
        if (old && !old.deleted) result.deleted.push(d.serialNumber);
        const base = old ?? { tokenName: page.tokenName, enrolled: false, firstSeenAt: now };
        s.devices.set(d.serialNumber, {
          ...base,
          ...d,
          tokenName: page.tokenName,
          deleted: true,
          updatedAt: now,
        });
        continue;
      }
      if (!old || old.deleted) {
        result.added.push(d.serialNumber);
        addedNow.add(d.serialNumber);
        s.devices.set(
          d.serialNumber,
          makeRecord(
            d,
            page.tokenName,
            false,
            old?.enrolled ?? false,
            old?.enrolledAt,
            old?.firstSeenAt ?? now,
            now,
            this.#intern,
          ),
        );
        continue;
      }
      // One event per device and page: a device added earlier in this page stays just "added".
      if (
        !addedNow.has(d.serialNumber) &&
        !modifiedNow.has(d.serialNumber) &&
        signature(old) !== signature(d)
      ) {
        modifiedNow.add(d.serialNumber);
        result.modified.push(d.serialNumber);
      }
      // Apple restates the whole device; only what storage itself tracks is carried over.
      s.devices.set(
        d.serialNumber,
        makeRecord(
          d,
          page.tokenName,
          false,
          old.enrolled,
          old.enrolledAt,
          old.firstSeenAt,
          now,
          this.#intern,
        ),
      );
    }
    s.cursor = {
      tokenName: page.tokenName,
      cursor: page.cursor,
      phase: page.phase,
      fence: page.fence,
      updatedAt: now,
    };
    return result;
  }

  async getDepDevice(tokenName: string, serialNumber: string): Promise<DepDeviceRecord | undefined> {
    this.#key('serial number', serialNumber);
    const d = this.#state(tokenName).devices.get(serialNumber);
    return d && copyDevice(d);
  }

  async listDepDevices(tokenName: string, filter: DepDeviceFilter = {}): Promise<Page<DepDeviceRecord>> {
    const s = this.#state(tokenName);
    const limit = pageSize(filter);
    const after = filter.after;
    const all = [...s.devices.values()]
      .filter(
        (d) =>
          (filter.includeDeleted || !d.deleted) &&
          (filter.pending === undefined || d.enrolled !== filter.pending),
      )
      .filter((d) => after === undefined || d.serialNumber > after)
      .sort((a, b) => (a.serialNumber < b.serialNumber ? -1 : a.serialNumber > b.serialNumber ? 1 : 0));
    const items = all.slice(0, limit).map(copyDevice);
    return all.length > limit ? { items, next: items.at(-1)!.serialNumber } : { items };
  }

  async markDepDeviceEnrolled(serialNumber: string, at: Date = new Date()): Promise<number> {
    this.#key('serial number', serialNumber);
    let n = 0;
    for (const s of this.#tokens.values()) {
      const d = s.devices.get(serialNumber);
      if (d && !d.enrolled) {
        // Stored records never leave this class uncopied, so changing one in place is safe.
        d.enrolled = true;
        d.enrolledAt = new Date(at);
        d.updatedAt = new Date();
        n++;
      }
    }
    return n;
  }

  async recordDepAssignment(record: DepAssignmentRecord, fence: number): Promise<void> {
    const s = this.#state(record?.tokenName);
    this.#key('serial number', record.serialNumber);
    this.#key('profile uuid', record.profileUuid);
    this.#key('status', record.status);
    this.#fence(s, fence);
    s.assignments.set(record.serialNumber, { ...record, assignedAt: new Date(record.assignedAt) });
  }

  async getDepAssignment(tokenName: string, serialNumber: string): Promise<DepAssignmentRecord | undefined> {
    this.#key('serial number', serialNumber);
    const a = this.#state(tokenName).assignments.get(serialNumber);
    return a && { ...a, assignedAt: new Date(a.assignedAt) };
  }

  async listDepDevicesAwaitingProfile(tokenName: string, limit = 1000): Promise<DepDeviceRecord[]> {
    const s = this.#state(tokenName);
    const n = pageSize({ limit });
    const out: DepDeviceRecord[] = [];
    const sorted = [...s.devices.keys()].sort();
    for (const serial of sorted) {
      const d = s.devices.get(serial)!;
      if (d.deleted || s.assignments.has(serial)) continue;
      if (d.profileStatus && d.profileStatus !== 'empty' && d.profileStatus !== 'removed') continue;
      out.push(copyDevice(d));
      if (out.length >= n) break;
    }
    return out;
  }
}
