import type { EnrollmentId, Page, PageOptions } from './enrollment';
import type {
  DdmStatusRecord,
  DeclarationSetRecord,
  EnrollmentBlockRecord,
  IdentityCertificateRecord,
  LifecycleStores,
} from './lifecycle';
import {
  checkAssignment,
  checkBlock,
  checkCertHash,
  checkDdmStatus,
  checkDeclarationSet,
  checkIdentityCertificate,
  checkRetire,
  keyedPage,
  statusCursor,
} from './lifecycle-checks';
import { checkKey, resolveLimits, type StorageLimits } from './limits';
import { checkDate, pageSize } from './validate';

/** The rows one in-memory database holds for the lifecycle stores; handles share it. */
export class MemoryLifecycleData {
  sets = new Map<string, DeclarationSetRecord>();
  /** set name → enrollment ids */
  assignments = new Map<string, Set<string>>();
  status = new Map<string, DdmStatusRecord[]>();
  statusSeq = 0;
  certs = new Map<string, IdentityCertificateRecord>();
  blocks = new Map<string, EnrollmentBlockRecord>();
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const copyCert = (r: IdentityCertificateRecord): IdentityCertificateRecord => ({
  ...r,
  notAfter: new Date(r.notAfter),
  ...(r.retireAt ? { retireAt: new Date(r.retireAt) } : {}),
});

/**
 * The in-memory declaration-set, DDM-status, identity-certificate and block stores: the reference
 * behaviour the conformance suite checks database adapters against. `MemoryStorage` carries one.
 *
 * @example
 * ```ts
 * import { MemoryLifecycleStore } from '@mdmkit/storage';
 * const store = new MemoryLifecycleStore();
 * await store.blockEnrollment({ enrollmentId: 'UDID-1', actor: 'alice', reason: 'stolen' });
 * ```
 */
export class MemoryLifecycleStore implements LifecycleStores {
  readonly #data: MemoryLifecycleData;
  readonly #limits: StorageLimits;
  readonly #isOpen: () => void;

  constructor(
    options: { data?: MemoryLifecycleData; limits?: Partial<StorageLimits>; checkOpen?: () => void } = {},
  ) {
    this.#data = options.data ?? new MemoryLifecycleData();
    this.#limits = resolveLimits(options.limits);
    this.#isOpen = options.checkOpen ?? (() => {});
  }

  #open(): MemoryLifecycleData {
    this.#isOpen();
    return this.#data;
  }

  async putDeclarationSet(name: string, declarations: string, at?: Date): Promise<DeclarationSetRecord> {
    checkDeclarationSet(this.#limits, name, declarations, at);
    const rec = { name, declarations, updatedAt: new Date(at ?? Date.now()) };
    this.#open().sets.set(name, rec);
    return { ...rec, updatedAt: new Date(rec.updatedAt) };
  }

  async getDeclarationSet(name: string): Promise<DeclarationSetRecord | undefined> {
    checkKey('declaration set name', name, this.#limits.maxKeyLength);
    const r = this.#open().sets.get(name);
    return r ? { ...r, updatedAt: new Date(r.updatedAt) } : undefined;
  }

  async deleteDeclarationSet(name: string): Promise<boolean> {
    checkKey('declaration set name', name, this.#limits.maxKeyLength);
    const db = this.#open();
    db.assignments.delete(name);
    return db.sets.delete(name);
  }

  async assignDeclarationSet(name: string, enrollmentIds: readonly EnrollmentId[]): Promise<void> {
    const ids = checkAssignment(this.#limits, name, enrollmentIds);
    const db = this.#open();
    const set = db.assignments.get(name) ?? new Set<string>();
    db.assignments.set(name, set);
    for (const id of ids) set.add(id);
  }

  async unassignDeclarationSet(name: string, enrollmentIds: readonly EnrollmentId[]): Promise<number> {
    const ids = checkAssignment(this.#limits, name, enrollmentIds);
    const set = this.#open().assignments.get(name);
    let n = 0;
    for (const id of ids) if (set?.delete(id)) n++;
    return n;
  }

  async declarationSetsOf(enrollmentId: EnrollmentId): Promise<string[]> {
    checkKey('enrollment id', enrollmentId, this.#limits.maxKeyLength);
    const out: string[] = [];
    for (const [name, ids] of this.#open().assignments) if (ids.has(enrollmentId)) out.push(name);
    return out.sort(cmp);
  }

  async enrollmentsWithDeclarationSet(name: string, options: PageOptions = {}): Promise<Page<EnrollmentId>> {
    checkKey('declaration set name', name, this.#limits.maxKeyLength);
    const limit = pageSize(options);
    const ids = [...(this.#open().assignments.get(name) ?? [])]
      .filter((id) => options.after === undefined || id > options.after)
      .sort(cmp);
    return keyedPage(ids.slice(0, limit + 1), limit, (id) => id);
  }

  async appendDdmStatus(enrollmentId: EnrollmentId, report: string, at?: Date): Promise<DdmStatusRecord> {
    checkDdmStatus(this.#limits, enrollmentId, report, at);
    const db = this.#open();
    const rec = { id: String(++db.statusSeq), enrollmentId, report, receivedAt: new Date(at ?? Date.now()) };
    const list = db.status.get(enrollmentId) ?? [];
    db.status.set(enrollmentId, list);
    list.push(rec);
    return { ...rec, receivedAt: new Date(rec.receivedAt) };
  }

  async listDdmStatus(enrollmentId: EnrollmentId, options: PageOptions = {}): Promise<Page<DdmStatusRecord>> {
    checkKey('enrollment id', enrollmentId, this.#limits.maxKeyLength);
    const before = statusCursor(options.after);
    const limit = pageSize(options);
    const rows = [...(this.#open().status.get(enrollmentId) ?? [])]
      .reverse()
      .filter((r) => before === undefined || Number(r.id) < before)
      .slice(0, limit + 1)
      .map((r) => ({ ...r, receivedAt: new Date(r.receivedAt) }));
    return keyedPage(rows, limit, (r) => r.id);
  }

  async putIdentityCertificate(record: IdentityCertificateRecord): Promise<void> {
    checkIdentityCertificate(this.#limits, record);
    const r: IdentityCertificateRecord = {
      hash: record.hash,
      enrollmentId: record.enrollmentId,
      notAfter: record.notAfter,
      trust: record.trust,
      ...(record.retireAt ? { retireAt: record.retireAt } : {}),
    };
    this.#open().certs.set(record.hash, copyCert(r));
  }

  async getIdentityCertificate(hash: string): Promise<IdentityCertificateRecord | undefined> {
    checkCertHash(hash);
    const r = this.#open().certs.get(hash);
    return r ? copyCert(r) : undefined;
  }

  async listExpiringIdentityCertificates(
    before: Date,
    options: PageOptions = {},
  ): Promise<Page<IdentityCertificateRecord>> {
    checkDate('before', before);
    const limit = pageSize(options);
    const rows = [...this.#open().certs.values()]
      .filter(
        (r) =>
          r.retireAt === undefined &&
          r.notAfter.getTime() < before.getTime() &&
          (options.after === undefined || r.hash > options.after),
      )
      .sort((a, b) => cmp(a.hash, b.hash))
      .slice(0, limit + 1)
      .map(copyCert);
    return keyedPage(rows, limit, (r) => r.hash);
  }

  async retireIdentityCertificates(
    enrollmentId: EnrollmentId,
    keepHash: string,
    retireAt: Date,
  ): Promise<number> {
    checkRetire(this.#limits, enrollmentId, keepHash, retireAt);
    let n = 0;
    for (const r of this.#open().certs.values()) {
      if (r.enrollmentId === enrollmentId && r.hash !== keepHash && r.retireAt === undefined) {
        r.retireAt = new Date(retireAt);
        n++;
      }
    }
    return n;
  }

  async blockEnrollment(input: {
    enrollmentId: EnrollmentId;
    actor: string;
    reason: string;
    at?: Date;
  }): Promise<EnrollmentBlockRecord> {
    const rec = checkBlock(this.#limits, input);
    this.#open().blocks.set(rec.enrollmentId, rec);
    return { ...rec, blockedAt: new Date(rec.blockedAt) };
  }

  async unblockEnrollment(enrollmentId: EnrollmentId): Promise<boolean> {
    checkKey('enrollment id', enrollmentId, this.#limits.maxKeyLength);
    return this.#open().blocks.delete(enrollmentId);
  }

  async getEnrollmentBlock(enrollmentId: EnrollmentId): Promise<EnrollmentBlockRecord | undefined> {
    checkKey('enrollment id', enrollmentId, this.#limits.maxKeyLength);
    const r = this.#open().blocks.get(enrollmentId);
    return r ? { ...r, blockedAt: new Date(r.blockedAt) } : undefined;
  }
}
