import type {
  AuthenticateInput,
  EnrollmentExport,
  EnrollmentId,
  EnrollmentRecord,
  Page,
  PageOptions,
  TokenUpdateInput,
  UserAuthenticateInput,
} from './enrollment';
import { StorageError } from './errors';
import { senderNoncesFull } from './nonce-budget';
import type { JobState, Lease } from './lease';
import { checkBytes, checkKey, resolveLimits, type StorageLimits } from './limits';
import { type Migration, type MigrationDriver, type MigrationReport, runMigrations } from './migrations';
import type { StoredPushCert } from './push-cert';
import type { EnrollmentFilter, PushInfo } from './queries';
import type {
  CommandInput,
  CommandReport,
  CommandResult,
  FinalStatus,
  NextCommandOptions,
  QueueEntry,
  QueuedCommand,
  RecordResultResponse,
} from './queue';
import type { IssuedCertificateRecord } from './scep';
import { type CommonStorageOptions, type MdmStorage, resolveLastSeenInterval } from './storage';
import type { AuditEvent, AuditEventInput, AuditEventStore, ListAuditEventsOptions } from './audit';
import { MemorySecretData, MemorySecretStore } from './memory-secrets';
import { MemoryOutboxData, MemoryOutboxStore } from './memory-outbox';
import {
  type ClaimOutboxOptions,
  checkOutboxEvents,
  type OutboxEvent,
  type OutboxEventInput,
  type OutboxStore,
  type OutboxWrite,
} from './outbox';
import type { LifecycleStores } from './lifecycle';
import { MemoryLifecycleData, MemoryLifecycleStore } from './memory-lifecycle';
import type { ListSecretsOptions, PutSecretInput, SecretRecord, SecretStore } from './secrets';
import { checkCommand, checkDate, checkPriority, checkReport, pageSize } from './validate';

interface MemEnrollment {
  rec: EnrollmentRecord;
  bootstrapToken?: Uint8Array;
  raw?: Uint8Array;
}

interface MemCommand {
  input: QueuedCommand;
  seq: number;
  waiting: number;
  /** Newest final result's time; undefined until the first. */
  lastResultAt?: number;
}

interface MemEntry {
  uuid: string;
  seq: number;
  lastStatus?: 'NotNow';
  notNowCount: number;
  lastStatusAt?: Date;
}

interface MemResult extends CommandResult {
  seq: number;
}

/** Everything one in-memory "database" holds; handles opened with {@link MemoryStorage.openHandle} share it. */
class MemoryDb {
  enrollments = new Map<string, MemEnrollment>();
  certs = new Map<string, string>();
  commands = new Map<string, MemCommand>();
  /** Pending entries per enrollment in enqueue order; an entry leaves when its final result arrives. */
  queues = new Map<string, MemEntry[]>();
  results = new Map<string, Map<string, MemResult>>();
  history = new Map<string, MemResult[]>();
  challenges = new Map<string, number>();
  nonces = new Map<string, number>();
  issued = new Map<string, IssuedCertificateRecord>();
  pushCerts = new Map<string, StoredPushCert>();
  leases = new Map<string, { holder?: string; token: number; expiresAt: number }>();
  jobs = new Map<string, JobState>();
  migrations: { version: number; name: string; appliedAt: Date }[] = [];
  /** Enrollment ids in binary order; rebuilt lazily after inserts so paging is not quadratic. */
  sortedIds: string[] | undefined;
  seq = 0;
  pushVersion = 0;
  lock: Promise<void> = Promise.resolve();
  secretData = new MemorySecretData();
  outbox = new MemoryOutboxData();
  lifecycleData = new MemoryLifecycleData();
}

/** Options for {@link MemoryStorage}. */
export interface MemoryStorageOptions extends CommonStorageOptions {}

const memoryMigrations: Migration<null>[] = [{ version: 1, name: 'initial', up: null }];

const copy = (b: Uint8Array | undefined): Uint8Array | undefined => (b ? new Uint8Array(b) : undefined);
const copyRec = (r: EnrollmentRecord): EnrollmentRecord => {
  const out: EnrollmentRecord = { ...r };
  if (r.unlockToken) out.unlockToken = new Uint8Array(r.unlockToken);
  if (r.lastSeenAt) out.lastSeenAt = new Date(r.lastSeenAt);
  out.createdAt = new Date(r.createdAt);
  out.updatedAt = new Date(r.updatedAt);
  return out;
};
const copyCmd = (c: QueuedCommand): QueuedCommand => ({ ...c, payload: new Uint8Array(c.payload) });
const copyResult = ({ seq: _seq, ...r }: MemResult): CommandResult => ({
  ...r,
  payload: new Uint8Array(r.payload),
});

// The lifecycle stores' methods (memory-lifecycle.ts) are bound in the constructor.
export interface MemoryStorage extends LifecycleStores {}

/**
 * The in-memory adapter: complete, fast, not durable. For tests, embedding and as the reference
 * behaviour the conformance suite is checked against.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from '@mdmkit/storage';
 * const storage = new MemoryStorage({ lastSeenIntervalMs: 30_000 });
 * await storage.tokenUpdate({ id: 'UDID-1', channel: 'device', topic, pushToken, pushMagic });
 * ```
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above
export class MemoryStorage implements MdmStorage, SecretStore, AuditEventStore, OutboxStore {
  #db: MemoryDb;
  readonly #limits: StorageLimits;
  readonly #lastSeenInterval: number;
  readonly #options: MemoryStorageOptions;
  #closed = false;

  constructor(options: MemoryStorageOptions = {}) {
    this.#options = options;
    this.#db = new MemoryDb();
    this.#limits = resolveLimits(options.limits);
    this.#lastSeenInterval = resolveLastSeenInterval(options);
    const lifecycle = (): MemoryLifecycleStore =>
      new MemoryLifecycleStore({
        data: this.#open().lifecycleData,
        limits: this.#limits,
        checkOpen: () => this.#open(),
      });
    for (const name of Object.getOwnPropertyNames(MemoryLifecycleStore.prototype)) {
      if (name === 'constructor') continue;
      Object.defineProperty(this, name, {
        value: (...args: unknown[]) =>
          (lifecycle() as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args),
        enumerable: false,
        writable: false,
      });
    }
  }

  /**
   * A second handle on the same data (what a second connection is for a database adapter), optionally
   * with other options. Closing one handle leaves the others open.
   */
  openHandle(options: MemoryStorageOptions = this.#options): MemoryStorage {
    const h = new MemoryStorage(options);
    h.#db = this.#db;
    return h;
  }

  #open(): MemoryDb {
    if (this.#closed) throw new StorageError('CLOSED', 'storage handle is closed');
    return this.#db;
  }

  #key(what: string, v: unknown): asserts v is string {
    checkKey(what, v, this.#limits.maxKeyLength);
  }

  // ---- lifecycle ----

  async migrate(): Promise<MigrationReport> {
    const db = this.#open();
    const driver: MigrationDriver<null> = {
      ensureTable: async () => {},
      exclusive: async (fn) => {
        const prev = db.lock;
        let release!: () => void;
        db.lock = new Promise((r) => {
          release = r;
        });
        await prev;
        try {
          return await fn();
        } finally {
          release();
        }
      },
      applied: async () => db.migrations.map((m) => ({ ...m })),
      apply: async (m) => {
        db.migrations.push({ version: m.version, name: m.name, appliedAt: new Date() });
      },
    };
    return runMigrations(driver, memoryMigrations);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  // ---- enrollments ----

  async authenticate(input: AuthenticateInput): Promise<void> {
    const events = checkOutboxEvents(this.#limits, input?.outbox);
    const out = await this.#authenticate(input);
    this.#open().outbox.add(events);
    return out;
  }

  async #authenticate(input: AuthenticateInput): Promise<void> {
    const db = this.#open();
    this.#key('enrollment id', input.id);
    checkBytes('raw message', input.raw, this.#limits.maxBlobBytes);
    const now = new Date();
    const existing = db.enrollments.get(input.id);
    const rec: EnrollmentRecord = existing
      ? existing.rec
      : {
          id: input.id,
          channel: 'device',
          deviceId: input.id,
          enabled: false,
          tokenUpdateTally: 0,
          createdAt: now,
          updatedAt: now,
        };
    rec.channel = 'device';
    rec.deviceId = input.id;
    if (input.serialNumber !== undefined) rec.serialNumber = input.serialNumber;
    if (input.topic !== undefined) rec.topic = input.topic;
    rec.enabled = false;
    rec.tokenUpdateTally = 0;
    rec.updatedAt = now;
    if (!existing) db.sortedIds = undefined;
    db.enrollments.set(input.id, { ...existing, rec, raw: copy(input.raw) });
    // a new Authenticate starts the whole enrollment over, user channels and queues included
    this.#dropQueue(db, input.id);
    for (const e of db.enrollments.values()) {
      if (e.rec.channel !== 'user' || e.rec.deviceId !== input.id) continue;
      this.#dropQueue(db, e.rec.id);
      if (e.rec.enabled || e.rec.tokenUpdateTally !== 0) {
        e.rec.enabled = false;
        e.rec.tokenUpdateTally = 0;
        e.rec.updatedAt = now;
      }
    }
  }

  #disableUsers(db: MemoryDb, deviceId: string, now: Date): void {
    for (const e of db.enrollments.values()) {
      if (e.rec.channel === 'user' && e.rec.deviceId === deviceId && e.rec.enabled) {
        e.rec.enabled = false;
        e.rec.updatedAt = now;
      }
    }
  }

  async tokenUpdate(input: TokenUpdateInput): Promise<number> {
    const events = checkOutboxEvents(this.#limits, input?.outbox);
    const out = await this.#tokenUpdate(input);
    this.#open().outbox.add(events);
    return out;
  }

  async #tokenUpdate(input: TokenUpdateInput): Promise<number> {
    const db = this.#open();
    this.#key('enrollment id', input.id);
    if (input.channel !== 'device' && input.channel !== 'user') {
      throw new StorageError('INVALID_INPUT', 'channel must be device or user');
    }
    const deviceId = input.deviceId ?? (input.channel === 'device' ? input.id : undefined);
    this.#key('device id', deviceId);
    this.#key('topic', input.topic);
    this.#key('push token', input.pushToken);
    this.#key('push magic', input.pushMagic);
    checkBytes('unlock token', input.unlockToken, this.#limits.maxBlobBytes);
    checkBytes('raw message', input.raw, this.#limits.maxBlobBytes);
    const now = new Date();
    const existing = db.enrollments.get(input.id);
    const rec: EnrollmentRecord = existing
      ? existing.rec
      : {
          id: input.id,
          channel: input.channel,
          deviceId,
          enabled: false,
          tokenUpdateTally: 0,
          createdAt: now,
          updatedAt: now,
        };
    rec.channel = input.channel;
    rec.deviceId = deviceId;
    if (input.userId !== undefined) rec.userId = input.userId;
    if (input.userShortName !== undefined) rec.userShortName = input.userShortName;
    if (input.userLongName !== undefined) rec.userLongName = input.userLongName;
    rec.topic = input.topic;
    rec.pushToken = input.pushToken;
    rec.pushMagic = input.pushMagic;
    if (input.unlockToken) rec.unlockToken = new Uint8Array(input.unlockToken);
    rec.enabled = true;
    rec.tokenUpdateTally += 1;
    rec.updatedAt = now;
    if (!existing) db.sortedIds = undefined;
    db.enrollments.set(input.id, { ...existing, rec, raw: copy(input.raw) ?? existing?.raw });
    return rec.tokenUpdateTally;
  }

  async userAuthenticate(input: UserAuthenticateInput): Promise<void> {
    const events = checkOutboxEvents(this.#limits, input?.outbox);
    const out = await this.#userAuthenticate(input);
    this.#open().outbox.add(events);
    return out;
  }

  async #userAuthenticate(input: UserAuthenticateInput): Promise<void> {
    const db = this.#open();
    this.#key('enrollment id', input.id);
    this.#key('device id', input.deviceId);
    checkBytes('raw message', input.raw, this.#limits.maxBlobBytes);
    const now = new Date();
    const existing = db.enrollments.get(input.id);
    const rec: EnrollmentRecord = existing
      ? existing.rec
      : {
          id: input.id,
          channel: 'user',
          deviceId: input.deviceId,
          enabled: false,
          tokenUpdateTally: 0,
          createdAt: now,
          updatedAt: now,
        };
    rec.channel = 'user';
    rec.deviceId = input.deviceId;
    if (input.userId !== undefined) rec.userId = input.userId;
    if (input.userShortName !== undefined) rec.userShortName = input.userShortName;
    if (input.userLongName !== undefined) rec.userLongName = input.userLongName;
    rec.updatedAt = now;
    if (!existing) db.sortedIds = undefined;
    db.enrollments.set(input.id, { ...existing, rec, raw: copy(input.raw) ?? existing?.raw });
  }

  async checkOut(id: EnrollmentId, options?: OutboxWrite): Promise<void> {
    const events = checkOutboxEvents(this.#limits, options?.outbox);
    await this.#checkOut(id);
    this.#open().outbox.add(events);
  }

  async #checkOut(id: EnrollmentId): Promise<void> {
    const db = this.#open();
    this.#key('enrollment id', id);
    const e = db.enrollments.get(id);
    if (!e) return;
    const now = new Date();
    e.rec.enabled = false;
    e.rec.updatedAt = now;
    if (e.rec.channel === 'device') this.#disableUsers(db, id, now);
  }

  async getEnrollment(id: EnrollmentId): Promise<EnrollmentRecord | undefined> {
    const e = this.#open().enrollments.get(id);
    return e ? copyRec(e.rec) : undefined;
  }

  async putBootstrapToken(id: EnrollmentId, token: Uint8Array): Promise<void> {
    const db = this.#open();
    this.#key('enrollment id', id);
    if (!(token instanceof Uint8Array))
      throw new StorageError('INVALID_INPUT', 'bootstrap token must be bytes');
    checkBytes('bootstrap token', token, this.#limits.maxBlobBytes);
    const e = db.enrollments.get(id);
    if (!e) throw new StorageError('NOT_FOUND', 'no such enrollment');
    e.bootstrapToken = new Uint8Array(token);
  }

  async getBootstrapToken(id: EnrollmentId): Promise<Uint8Array | undefined> {
    return copy(this.#open().enrollments.get(id)?.bootstrapToken);
  }

  async touchLastSeen(id: EnrollmentId, at: Date = new Date()): Promise<boolean> {
    const db = this.#open();
    this.#key('enrollment id', id);
    checkDate('at', at);
    const e = db.enrollments.get(id);
    if (!e) return false;
    const last = e.rec.lastSeenAt?.getTime();
    if (last !== undefined && last > at.getTime() - this.#lastSeenInterval) return false;
    e.rec.lastSeenAt = new Date(at);
    return true;
  }

  async associateCertificate(id: EnrollmentId, certHash: string): Promise<void> {
    this.#bindCertificate(id, certHash);
  }

  #bindCertificate(id: EnrollmentId, certHash: string): Map<string, string> {
    const db = this.#open();
    this.#key('enrollment id', id);
    this.#key('certificate hash', certHash);
    const bound = db.certs.get(certHash);
    if (bound !== undefined && bound !== id) {
      throw new StorageError('CONFLICT', 'certificate is already associated with another enrollment');
    }
    db.certs.set(certHash, id);
    return db.certs;
  }

  async replaceCertificate(id: EnrollmentId, certHash: string): Promise<void> {
    // Binding first throws CONFLICT before anything is unbound; no await splits the two steps.
    const certs = this.#bindCertificate(id, certHash);
    for (const [h, owner] of certs) if (owner === id && h !== certHash) certs.delete(h);
  }

  async enrollmentForCertificate(certHash: string): Promise<EnrollmentId | undefined> {
    return this.#open().certs.get(certHash);
  }

  async isCertificateAssociated(id: EnrollmentId, certHash: string): Promise<boolean> {
    return this.#open().certs.get(certHash) === id;
  }

  async exportEnrollments(options?: PageOptions): Promise<Page<EnrollmentExport>> {
    const db = this.#open();
    const limit = pageSize(options);
    const all = sortedIds(db);
    const from = startAfter(all, options?.after);
    const slice = all.slice(from, from + limit);
    const wanted = new Set(slice);
    const hashes = new Map<string, string[]>();
    for (const [h, id] of db.certs) {
      if (!wanted.has(id)) continue;
      const list = hashes.get(id) ?? [];
      list.push(h);
      hashes.set(id, list);
    }
    const items = slice.map((id) => {
      const e = db.enrollments.get(id)!;
      const out: EnrollmentExport = {
        enrollment: copyRec(e.rec),
        certificateHashes: (hashes.get(id) ?? []).sort(cmp),
      };
      if (e.bootstrapToken) out.bootstrapToken = new Uint8Array(e.bootstrapToken);
      return out;
    });
    return from + limit < all.length ? { items, next: slice[slice.length - 1]! } : { items };
  }

  async importEnrollments(items: EnrollmentExport[]): Promise<number> {
    const db = this.#open();
    for (const it of items) {
      this.#key('enrollment id', it.enrollment?.id);
      checkBytes('bootstrap token', it.bootstrapToken, this.#limits.maxBlobBytes);
      for (const h of it.certificateHashes ?? []) {
        this.#key('certificate hash', h);
        const bound = db.certs.get(h);
        if (bound !== undefined && bound !== it.enrollment.id) {
          throw new StorageError('CONFLICT', 'certificate is already associated with another enrollment');
        }
      }
    }
    for (const it of items) {
      const rec = copyRec(it.enrollment);
      const prev = db.enrollments.get(rec.id);
      if (!prev) db.sortedIds = undefined;
      const e: MemEnrollment = { ...prev, rec };
      if (it.bootstrapToken) e.bootstrapToken = new Uint8Array(it.bootstrapToken);
      db.enrollments.set(rec.id, e);
      for (const h of it.certificateHashes ?? []) db.certs.set(h, rec.id);
    }
    return items.length;
  }

  // ---- queries ----

  async listEnrollments(filter: EnrollmentFilter = {}): Promise<Page<EnrollmentRecord>> {
    const db = this.#open();
    const limit = pageSize(filter);
    const all = filter.ids ? [...new Set(filter.ids)].sort(cmp) : sortedIds(db);
    const items: EnrollmentRecord[] = [];
    let more = false;
    let i = startAfter(all, filter.after);
    if (filter.idPrefix !== undefined) i = Math.max(i, firstAtOrAfter(all, filter.idPrefix));
    for (; i < all.length; i++) {
      const rec = db.enrollments.get(all[i]!)?.rec;
      if (!rec) continue;
      if (filter.idPrefix !== undefined && !rec.id.startsWith(filter.idPrefix)) {
        if (rec.id > filter.idPrefix && !filter.ids) break;
        continue;
      }
      if (filter.serialNumber !== undefined && rec.serialNumber !== filter.serialNumber) continue;
      if (filter.channel !== undefined && rec.channel !== filter.channel) continue;
      if (filter.enabled !== undefined && rec.enabled !== filter.enabled) continue;
      const seen = rec.lastSeenAt?.getTime();
      if (filter.lastSeenBefore && seen !== undefined && seen >= filter.lastSeenBefore.getTime()) continue;
      if (filter.lastSeenAfter && (seen === undefined || seen < filter.lastSeenAfter.getTime())) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(copyRec(rec));
    }
    return more ? { items, next: items[items.length - 1]!.id } : { items };
  }

  async getPushInfo(ids: EnrollmentId[]): Promise<PushInfo[]> {
    const db = this.#open();
    const out: PushInfo[] = [];
    for (const id of [...new Set(ids)].sort(cmp)) {
      const r = db.enrollments.get(id)?.rec;
      if (r?.enabled && r.topic && r.pushToken && r.pushMagic) {
        out.push({ id, topic: r.topic, pushToken: r.pushToken, pushMagic: r.pushMagic });
      }
    }
    return out;
  }

  // ---- command queue ----

  async enqueueCommand(command: CommandInput, enrollmentIds: EnrollmentId[]): Promise<void> {
    const db = this.#open();
    const ids = checkCommand(command, enrollmentIds, this.#limits);
    if (db.commands.has(command.uuid)) throw new StorageError('CONFLICT', 'command uuid already exists');
    const now = new Date();
    const seq = ++db.seq;
    const input: QueuedCommand = {
      uuid: command.uuid,
      requestType: command.requestType,
      payload: new Uint8Array(command.payload),
      priority: checkPriority(command.priority),
      enqueuedAt: now,
    };
    if (command.notBefore) input.notBefore = new Date(command.notBefore);
    if (command.expiresAt) input.expiresAt = new Date(command.expiresAt);
    db.commands.set(command.uuid, { input, seq, waiting: ids.length });
    for (const id of ids) {
      const entry: MemEntry = { uuid: command.uuid, seq, notNowCount: 0 };
      const q = db.queues.get(id);
      if (q) q.push(entry);
      else db.queues.set(id, [entry]);
    }
  }

  #pick(db: MemoryDb, id: string, skipNotNow: boolean, now: number): QueuedCommand | undefined {
    const q = db.queues.get(id);
    if (!q) return undefined;
    let best: { e: MemEntry; c: MemCommand } | undefined;
    for (const e of q) {
      if (skipNotNow && e.lastStatus === 'NotNow') continue;
      const c = db.commands.get(e.uuid)!;
      if (c.input.notBefore && c.input.notBefore.getTime() > now) continue;
      if (c.input.expiresAt && c.input.expiresAt.getTime() <= now) continue;
      if (
        !best ||
        c.input.priority > best.c.input.priority ||
        (c.input.priority === best.c.input.priority && e.seq < best.e.seq)
      ) {
        best = { e, c };
      }
    }
    return best ? copyCmd(best.c.input) : undefined;
  }

  async nextCommand(id: EnrollmentId, options: NextCommandOptions = {}): Promise<QueuedCommand | undefined> {
    const db = this.#open();
    this.#key('enrollment id', id);
    checkDate('now', options.now, true);
    return this.#pick(db, id, options.skipNotNow ?? false, (options.now ?? new Date()).getTime());
  }

  async recordResult(report: CommandReport, options: { now?: Date } = {}): Promise<RecordResultResponse> {
    const events = checkOutboxEvents(this.#limits, report?.outbox);
    const out = await this.#recordResult(report, options);
    this.#open().outbox.add(events);
    return out;
  }

  async #recordResult(report: CommandReport, options: { now?: Date }): Promise<RecordResultResponse> {
    const db = this.#open();
    const uuid = checkReport(report, this.#limits);
    checkDate('now', options.now, true);
    const now = options.now ?? new Date();
    const id = report.enrollmentId;
    const skip = report.status === 'NotNow';
    const respond = (outcome: RecordResultResponse['outcome']): RecordResultResponse => {
      const next = this.#pick(db, id, skip, now.getTime());
      return next ? { outcome, next } : { outcome };
    };
    if (uuid === undefined) return respond('idle');
    const q = db.queues.get(id);
    const at = q ? q.findIndex((e) => e.uuid === uuid) : -1;
    if (!q || at < 0) return respond(db.results.get(uuid)?.has(id) ? 'duplicate' : 'unknown');
    const entry = q[at]!;
    const cmd = db.commands.get(uuid)!;
    entry.lastStatusAt = new Date(now);
    if (report.status === 'NotNow') {
      entry.lastStatus = 'NotNow';
      entry.notNowCount += 1;
      return respond('stored');
    }
    q.splice(at, 1);
    if (q.length === 0) db.queues.delete(id);
    cmd.waiting -= 1;
    cmd.lastResultAt = Math.max(cmd.lastResultAt ?? Number.NEGATIVE_INFINITY, now.getTime());
    const result: MemResult = {
      enrollmentId: id,
      commandUuid: uuid,
      requestType: cmd.input.requestType,
      status: report.status as FinalStatus,
      payload: new Uint8Array(report.payload ?? new Uint8Array()),
      receivedAt: new Date(now),
      seq: ++db.seq,
    };
    let byId = db.results.get(uuid);
    if (!byId) {
      byId = new Map();
      db.results.set(uuid, byId);
    }
    byId.set(id, result);
    const h = db.history.get(id) ?? [];
    h.push(result);
    db.history.set(id, h);
    return respond('stored');
  }

  async listQueue(id: EnrollmentId): Promise<QueueEntry[]> {
    const db = this.#open();
    const q = db.queues.get(id);
    if (!q) return [];
    const out: (QueueEntry & { seq: number })[] = [];
    for (const e of q) {
      const c = copyCmd(db.commands.get(e.uuid)!.input);
      const entry: QueueEntry & { seq: number } = {
        ...c,
        enrollmentId: id,
        notNowCount: e.notNowCount,
        seq: e.seq,
      };
      if (e.lastStatus) entry.lastStatus = e.lastStatus;
      if (e.lastStatusAt) entry.lastStatusAt = new Date(e.lastStatusAt);
      out.push(entry);
    }
    out.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    return out.map(({ seq: _s, ...e }) => e);
  }

  async clearQueue(id: EnrollmentId): Promise<number> {
    return this.#dropQueue(this.#open(), id);
  }

  #dropQueue(db: MemoryDb, id: EnrollmentId): number {
    const q = db.queues.get(id);
    if (!q) return 0;
    for (const e of q) {
      const c = db.commands.get(e.uuid);
      if (c) c.waiting -= 1;
    }
    db.queues.delete(id);
    return q.length;
  }

  async getResults(commandUuid: string): Promise<CommandResult[]> {
    const m = this.#open().results.get(commandUuid);
    return m ? [...m.values()].sort((a, b) => a.seq - b.seq).map(copyResult) : [];
  }

  async listHistory(id: EnrollmentId, options?: PageOptions): Promise<Page<CommandResult>> {
    const db = this.#open();
    const limit = pageSize(options);
    const before = options?.after !== undefined ? Number(options.after) : Number.POSITIVE_INFINITY;
    const all = (db.history.get(id) ?? []).filter((r) => r.seq < before).sort((a, b) => b.seq - a.seq);
    const slice = all.slice(0, limit);
    const items = slice.map(copyResult);
    return all.length > limit ? { items, next: String(slice[slice.length - 1]!.seq) } : { items };
  }

  async deleteFinishedCommands(before: Date): Promise<number> {
    const db = this.#open();
    checkDate('before', before);
    let n = 0;
    for (const [uuid, c] of db.commands) {
      if (c.waiting > 0 || (c.lastResultAt ?? c.input.enqueuedAt.getTime()) >= before.getTime()) continue;
      db.commands.delete(uuid);
      const res = db.results.get(uuid);
      db.results.delete(uuid);
      for (const id of res?.keys() ?? []) {
        const h = db.history.get(id);
        if (h)
          db.history.set(
            id,
            h.filter((r) => r.commandUuid !== uuid),
          );
      }
      n++;
    }
    return n;
  }

  // ---- SCEP ----

  async putChallenge(challengeHash: string, expiresAt: Date): Promise<void> {
    const db = this.#open();
    this.#key('challenge hash', challengeHash);
    checkDate('expiresAt', expiresAt);
    db.challenges.set(challengeHash, expiresAt.getTime());
  }

  async consumeChallenge(challengeHash: string, now: Date = new Date()): Promise<boolean> {
    const db = this.#open();
    const exp = db.challenges.get(challengeHash);
    if (exp === undefined) return false;
    db.challenges.delete(challengeHash);
    return exp > now.getTime();
  }

  async recordSenderNonce(nonceHex: string, expiresAt: Date): Promise<boolean> {
    const db = this.#open();
    this.#key('sender nonce', nonceHex);
    checkDate('expiresAt', expiresAt);
    const now = Date.now();
    // The map keeps insertion order and callers give every nonce the same lifetime, so the oldest entries
    // are at the front: dropping expired ones from there is amortised O(1) per insert.
    for (const [k, v] of db.nonces) {
      if (v > now) break;
      db.nonces.delete(k);
    }
    const exp = db.nonces.get(nonceHex);
    if (exp !== undefined && exp > now) return false;
    if (exp === undefined && db.nonces.size >= this.#limits.maxSenderNonces) {
      throw senderNoncesFull(this.#limits.maxSenderNonces);
    }
    // Re-inserting moves a taken-over expired record to the back, where its new expiry belongs.
    db.nonces.delete(nonceHex);
    db.nonces.set(nonceHex, expiresAt.getTime());
    return true;
  }

  async putIssuedCertificate(rec: IssuedCertificateRecord): Promise<void> {
    const db = this.#open();
    this.#key('serial', rec.serial);
    checkKey('subject', rec.subject, 4096);
    checkDate('notBefore', rec.notBefore);
    checkDate('notAfter', rec.notAfter);
    checkDate('issuedAt', rec.issuedAt);
    if (!(rec.certificateDer instanceof Uint8Array))
      throw new StorageError('INVALID_INPUT', 'certificateDer must be bytes');
    checkBytes('certificate', rec.certificateDer, this.#limits.maxBlobBytes);
    if (db.issued.has(rec.serial))
      throw new StorageError('CONFLICT', 'a certificate with this serial exists');
    db.issued.set(rec.serial, copyIssued(rec));
  }

  async getIssuedCertificate(serialHex: string): Promise<IssuedCertificateRecord | undefined> {
    const r = this.#open().issued.get(serialHex);
    return r ? copyIssued(r) : undefined;
  }

  async findIssuedCertificatesBySubject(subject: string): Promise<IssuedCertificateRecord[]> {
    const out = [...this.#open().issued.values()].filter((r) => r.subject === subject);
    out.sort((a, b) => a.issuedAt.getTime() - b.issuedAt.getTime() || cmp(a.serial, b.serial));
    return out.map(copyIssued);
  }

  // ---- push certificates ----

  async getPushCert(topic: string): Promise<StoredPushCert | undefined> {
    const r = this.#open().pushCerts.get(topic);
    return r ? copyPush(r) : undefined;
  }

  async putPushCert(rec: {
    topic: string;
    certificatePem: string;
    sealedKey: Uint8Array;
  }): Promise<StoredPushCert> {
    const db = this.#open();
    this.#key('topic', rec.topic);
    checkKey('certificate', rec.certificatePem, this.#limits.maxBlobBytes);
    if (!(rec.sealedKey instanceof Uint8Array))
      throw new StorageError('INVALID_INPUT', 'sealedKey must be bytes');
    checkBytes('sealed key', rec.sealedKey, this.#limits.maxBlobBytes);
    const stored: StoredPushCert = {
      topic: rec.topic,
      certificatePem: rec.certificatePem,
      sealedKey: new Uint8Array(rec.sealedKey),
      version: String(++db.pushVersion),
      updatedAt: new Date(),
    };
    db.pushCerts.set(rec.topic, stored);
    return copyPush(stored);
  }

  async listPushCerts(): Promise<StoredPushCert[]> {
    return [...this.#open().pushCerts.values()].sort((a, b) => cmp(a.topic, b.topic)).map(copyPush);
  }

  // ---- leases ----

  async acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    now: Date = new Date(),
  ): Promise<Lease | undefined> {
    const db = this.#open();
    this.#key('lease name', name);
    this.#key('lease holder', holder);
    checkTtl(ttlMs);
    const t = now.getTime();
    const row = db.leases.get(name);
    if (row?.holder !== undefined && row.expiresAt > t) {
      if (row.holder !== holder) return undefined;
      row.expiresAt = t + ttlMs;
      return { name, holder, token: row.token, expiresAt: new Date(row.expiresAt) };
    }
    const token = (row?.token ?? 0) + 1;
    db.leases.set(name, { holder, token, expiresAt: t + ttlMs });
    return { name, holder, token, expiresAt: new Date(t + ttlMs) };
  }

  async renewLease(lease: Lease, ttlMs: number, now: Date = new Date()): Promise<Lease | undefined> {
    const db = this.#open();
    checkTtl(ttlMs);
    const row = db.leases.get(lease.name);
    const t = now.getTime();
    if (!row || row.token !== lease.token || row.holder !== lease.holder || row.expiresAt <= t)
      return undefined;
    row.expiresAt = t + ttlMs;
    return { ...lease, expiresAt: new Date(row.expiresAt) };
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    const db = this.#open();
    const row = db.leases.get(lease.name);
    if (!row || row.token !== lease.token || row.holder !== lease.holder) return false;
    row.holder = undefined;
    row.expiresAt = 0;
    return true;
  }

  async getLease(name: string, now: Date = new Date()): Promise<Lease | undefined> {
    const row = this.#open().leases.get(name);
    if (!row || row.holder === undefined || row.expiresAt <= now.getTime()) return undefined;
    return { name, holder: row.holder, token: row.token, expiresAt: new Date(row.expiresAt) };
  }

  async writeJobState(name: string, token: number, state: string): Promise<void> {
    const db = this.#open();
    this.#key('lease name', name);
    if (typeof state !== 'string') throw new StorageError('INVALID_INPUT', 'job state must be a string');
    if (state.length > this.#limits.maxBlobBytes) {
      throw new StorageError(
        'PAYLOAD_TOO_LARGE',
        `job state exceeds ${this.#limits.maxBlobBytes} characters`,
      );
    }
    const row = db.leases.get(name);
    if (!row || row.token !== token) throw new StorageError('FENCED', 'fencing token is not the current one');
    db.jobs.set(name, { name, state, token, updatedAt: new Date() });
  }

  async readJobState(name: string): Promise<JobState | undefined> {
    const j = this.#open().jobs.get(name);
    return j ? { ...j, updatedAt: new Date(j.updatedAt) } : undefined;
  }

  // ---- outbox (memory-outbox.ts) ----

  #outboxStore(): MemoryOutboxStore {
    return new MemoryOutboxStore({
      data: this.#open().outbox,
      limits: this.#limits,
      checkOpen: () => this.#open(),
    });
  }

  async enqueueOutbox(events: readonly OutboxEventInput[]): Promise<void> {
    return this.#outboxStore().enqueueOutbox(events);
  }

  async claimOutbox(holder: string, options: ClaimOutboxOptions): Promise<OutboxEvent[]> {
    return this.#outboxStore().claimOutbox(holder, options);
  }

  async confirmOutbox(holder: string, ids: readonly string[]): Promise<number> {
    return this.#outboxStore().confirmOutbox(holder, ids);
  }

  async rescheduleOutbox(holder: string, id: string, dueAt: Date, error: string): Promise<boolean> {
    return this.#outboxStore().rescheduleOutbox(holder, id, dueAt, error);
  }

  // ---- secrets and audit events (memory-secrets.ts) ----

  #secretStore(): MemorySecretStore {
    return new MemorySecretStore({
      data: this.#open().secretData,
      limits: this.#limits,
      checkOpen: () => this.#open(),
    });
  }

  async getSecret(owner: string, kind: string): Promise<SecretRecord | undefined> {
    return this.#secretStore().getSecret(owner, kind);
  }

  async putSecret(input: PutSecretInput): Promise<SecretRecord> {
    return this.#secretStore().putSecret(input);
  }

  async deleteSecret(owner: string, kind: string, expectedVersion?: number): Promise<boolean> {
    return this.#secretStore().deleteSecret(owner, kind, expectedVersion);
  }

  async listSecrets(options?: ListSecretsOptions): Promise<Page<SecretRecord>> {
    return this.#secretStore().listSecrets(options);
  }

  async appendAuditEvent(event: AuditEventInput): Promise<AuditEvent> {
    return this.#secretStore().appendAuditEvent(event);
  }

  async listAuditEvents(options?: ListAuditEventsOptions): Promise<Page<AuditEvent>> {
    return this.#secretStore().listAuditEvents(options);
  }
}

function sortedIds(db: MemoryDb): string[] {
  db.sortedIds ??= [...db.enrollments.keys()].sort(cmp);
  return db.sortedIds;
}

/** Index of the first id strictly after `after` (0 when undefined). */
function startAfter(ids: string[], after: string | undefined): number {
  if (after === undefined) return 0;
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first id at or after `key`. */
function firstAtOrAfter(ids: string[], key: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function checkTtl(ttlMs: number): void {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new StorageError('INVALID_INPUT', 'ttlMs must be a positive number');
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function copyIssued(r: IssuedCertificateRecord): IssuedCertificateRecord {
  const out: IssuedCertificateRecord = {
    ...r,
    notBefore: new Date(r.notBefore),
    notAfter: new Date(r.notAfter),
    issuedAt: new Date(r.issuedAt),
    certificateDer: new Uint8Array(r.certificateDer),
  };
  if (r.requester === undefined) delete out.requester;
  return out;
}

function copyPush(r: StoredPushCert): StoredPushCert {
  return { ...r, sealedKey: new Uint8Array(r.sealedKey), updatedAt: new Date(r.updatedAt) };
}
