import {
  type AuthenticateInput,
  type CommandInput,
  type CommandReport,
  type CommandResult,
  type CommonStorageOptions,
  type EnrollmentExport,
  type EnrollmentFilter,
  type EnrollmentRecord,
  type IssuedCertificateRecord,
  type JobState,
  type Lease,
  type MdmStorage,
  type MigrationReport,
  type NextCommandOptions,
  type Page,
  type PageOptions,
  type PushInfo,
  type QueuedCommand,
  type QueueEntry,
  type RecordResultResponse,
  resolveLastSeenInterval,
  resolveLimits,
  StorageError,
  type StoredPushCert,
  type TokenUpdateInput,
  type UserAuthenticateInput,
} from '@mdmkit/storage';
import type { Ctx } from './context';
import * as enrollments from './enrollments';
import * as leases from './leases';
import { migratePostgres } from './migrations';
import { openDatabase, type PgDatabase, type PostgresConnectionOptions } from './pool';
import * as pushCerts from './push-certs';
import * as queries from './queries';
import * as queue from './queue';
import * as scep from './scep';

/** Options of {@link createPostgresStorage}. */
export interface PostgresStorageOptions extends PostgresConnectionOptions, CommonStorageOptions {
  /** Run `migrate()` before returning. Default true. */
  migrate?: boolean;
}

/**
 * Connects, migrates (unless `migrate: false`) and returns a storage that implements every
 * `@mdmkit/storage` interface on PostgreSQL 12 or newer. Throws StorageError `UNAVAILABLE` naming the
 * URL (password removed) when the server does not answer.
 *
 * @example
 * ```ts
 * import { createPostgresStorage } from '@mdmkit/storage-postgres';
 * const storage = await createPostgresStorage({ url: process.env.DATABASE_URL!, schema: 'mdm' });
 * await storage.enqueueCommand({ uuid, requestType: 'DeviceInformation', payload }, udids);
 * // ...
 * await storage.close();
 * ```
 */
export async function createPostgresStorage(options: PostgresStorageOptions): Promise<PostgresStorage> {
  const db = await openDatabase(options);
  const storage = new PostgresStorage(db, options);
  if (options.migrate !== false) {
    try {
      await storage.migrate();
    } catch (e) {
      await storage.close();
      throw e;
    }
  }
  return storage;
}

/**
 * The PostgreSQL adapter. Create it with {@link createPostgresStorage}. Hot paths are single
 * statements (next command; record result + pick next), fan-out is set-based, last-seen writes are
 * coalesced, and serialization failures and deadlocks are retried inside.
 *
 * @example
 * ```ts
 * const storage = await createPostgresStorage({ url, schema: 'mdm' });
 * // check-in
 * await storage.authenticate({ id: udid, serialNumber, topic });
 * await storage.tokenUpdate({ id: udid, channel: 'device', topic, pushToken, pushMagic });
 * // connect endpoint: store the device's report, get what to send next
 * const { outcome, next } = await storage.recordResult({ enrollmentId: udid, commandUuid, status: 'Acknowledged', payload });
 * ```
 */
export class PostgresStorage implements MdmStorage {
  readonly #db: PgDatabase;
  readonly #ctx: Ctx;
  #closed = false;

  /** Prefer {@link createPostgresStorage}, which connects and migrates. */
  constructor(db: PgDatabase, options: CommonStorageOptions = {}) {
    this.#db = db;
    this.#ctx = {
      db,
      limits: resolveLimits(options.limits),
      lastSeenIntervalMs: resolveLastSeenInterval(options),
      lastSeenWritten: new Map(),
    };
  }

  /** The schema this storage works in. */
  get schema(): string {
    return this.#db.schema;
  }

  #c(): Ctx {
    if (this.#closed) throw new StorageError('CLOSED', 'storage is closed');
    return this.#ctx;
  }

  async #run<T>(fn: (ctx: Ctx) => Promise<T>): Promise<T> {
    return fn(this.#c());
  }

  migrate(): Promise<MigrationReport> {
    return this.#run(() => migratePostgres(this.#db));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.pool.end();
  }

  authenticate(input: AuthenticateInput): Promise<void> {
    return this.#run((c) => enrollments.authenticate(c, input));
  }
  tokenUpdate(input: TokenUpdateInput): Promise<number> {
    return this.#run((c) => enrollments.tokenUpdate(c, input));
  }
  userAuthenticate(input: UserAuthenticateInput): Promise<void> {
    return this.#run((c) => enrollments.userAuthenticate(c, input));
  }
  checkOut(id: string): Promise<void> {
    return this.#run((c) => enrollments.checkOut(c, id));
  }
  getEnrollment(id: string): Promise<EnrollmentRecord | undefined> {
    return this.#run((c) => enrollments.getEnrollment(c, id));
  }
  putBootstrapToken(id: string, token: Uint8Array): Promise<void> {
    return this.#run((c) => enrollments.putBootstrapToken(c, id, token));
  }
  getBootstrapToken(id: string): Promise<Uint8Array | undefined> {
    return this.#run((c) => enrollments.getBootstrapToken(c, id));
  }
  touchLastSeen(id: string, at?: Date): Promise<boolean> {
    return this.#run((c) => enrollments.touchLastSeen(c, id, at));
  }
  associateCertificate(id: string, certHash: string): Promise<void> {
    return this.#run((c) => enrollments.associateCertificate(c, id, certHash));
  }
  replaceCertificate(id: string, certHash: string): Promise<void> {
    return this.#run((c) => enrollments.replaceCertificate(c, id, certHash));
  }
  enrollmentForCertificate(certHash: string): Promise<string | undefined> {
    return this.#run((c) => enrollments.enrollmentForCertificate(c, certHash));
  }
  isCertificateAssociated(id: string, certHash: string): Promise<boolean> {
    return this.#run((c) => enrollments.isCertificateAssociated(c, id, certHash));
  }
  exportEnrollments(options?: PageOptions): Promise<Page<EnrollmentExport>> {
    return this.#run((c) => enrollments.exportEnrollments(c, options));
  }
  importEnrollments(items: EnrollmentExport[]): Promise<number> {
    return this.#run((c) => enrollments.importEnrollments(c, items));
  }

  enqueueCommand(command: CommandInput, enrollmentIds: string[]): Promise<void> {
    return this.#run((c) => queue.enqueueCommand(c, command, enrollmentIds));
  }
  nextCommand(id: string, options?: NextCommandOptions): Promise<QueuedCommand | undefined> {
    return this.#run((c) => queue.nextCommand(c, id, options));
  }
  recordResult(report: CommandReport, options?: { now?: Date }): Promise<RecordResultResponse> {
    return this.#run((c) => queue.recordResult(c, report, options));
  }
  listQueue(id: string): Promise<QueueEntry[]> {
    return this.#run((c) => queue.listQueue(c, id));
  }
  clearQueue(id: string): Promise<number> {
    return this.#run((c) => queue.clearQueue(c, id));
  }
  getResults(commandUuid: string): Promise<CommandResult[]> {
    return this.#run((c) => queue.getResults(c, commandUuid));
  }
  listHistory(id: string, options?: PageOptions): Promise<Page<CommandResult>> {
    return this.#run((c) => queue.listHistory(c, id, options));
  }
  deleteFinishedCommands(before: Date): Promise<number> {
    return this.#run((c) => queue.deleteFinishedCommands(c, before));
  }

  listEnrollments(filter?: EnrollmentFilter): Promise<Page<EnrollmentRecord>> {
    return this.#run((c) => queries.listEnrollments(c, filter));
  }
  getPushInfo(ids: string[]): Promise<PushInfo[]> {
    return this.#run((c) => queries.getPushInfo(c, ids));
  }

  putChallenge(challengeHash: string, expiresAt: Date): Promise<void> {
    return this.#run((c) => scep.putChallenge(c, challengeHash, expiresAt));
  }
  consumeChallenge(challengeHash: string, now?: Date): Promise<boolean> {
    return this.#run((c) => scep.consumeChallenge(c, challengeHash, now));
  }
  recordSenderNonce(nonceHex: string, expiresAt: Date): Promise<boolean> {
    return this.#run((c) => scep.recordSenderNonce(c, nonceHex, expiresAt));
  }
  putIssuedCertificate(rec: IssuedCertificateRecord): Promise<void> {
    return this.#run((c) => scep.putIssuedCertificate(c, rec));
  }
  getIssuedCertificate(serialHex: string): Promise<IssuedCertificateRecord | undefined> {
    return this.#run((c) => scep.getIssuedCertificate(c, serialHex));
  }
  findIssuedCertificatesBySubject(subject: string): Promise<IssuedCertificateRecord[]> {
    return this.#run((c) => scep.findIssuedCertificatesBySubject(c, subject));
  }

  getPushCert(topic: string): Promise<StoredPushCert | undefined> {
    return this.#run((c) => pushCerts.getPushCert(c, topic));
  }
  putPushCert(rec: {
    topic: string;
    certificatePem: string;
    sealedKey: Uint8Array;
  }): Promise<StoredPushCert> {
    return this.#run((c) => pushCerts.putPushCert(c, rec));
  }
  listPushCerts(): Promise<StoredPushCert[]> {
    return this.#run((c) => pushCerts.listPushCerts(c));
  }

  acquireLease(name: string, holder: string, ttlMs: number, now?: Date): Promise<Lease | undefined> {
    return this.#run((c) => leases.acquireLease(c, name, holder, ttlMs, now));
  }
  renewLease(lease: Lease, ttlMs: number, now?: Date): Promise<Lease | undefined> {
    return this.#run((c) => leases.renewLease(c, lease, ttlMs, now));
  }
  releaseLease(lease: Lease): Promise<boolean> {
    return this.#run((c) => leases.releaseLease(c, lease));
  }
  getLease(name: string, now?: Date): Promise<Lease | undefined> {
    return this.#run((c) => leases.getLease(c, name, now));
  }
  writeJobState(name: string, token: number, state: string): Promise<void> {
    return this.#run((c) => leases.writeJobState(c, name, token, state));
  }
  readJobState(name: string): Promise<JobState | undefined> {
    return this.#run((c) => leases.readJobState(c, name));
  }
}
