import type { EnrollmentExport, EnrollmentRecord, Page, PageOptions } from '../enrollment';
import type { AuthenticateInput, TokenUpdateInput, UserAuthenticateInput } from '../enrollment';
import { StorageError } from '../errors';
import type { JobState, Lease } from '../lease';
import type { MigrationReport } from '../migrations';
import type { OutboxWrite } from '../outbox';
import type { StoredPushCert } from '../push-cert';
import type { EnrollmentFilter, PushInfo } from '../queries';
import type {
  CommandInput,
  CommandReport,
  CommandResult,
  NextCommandOptions,
  QueuedCommand,
  QueueEntry,
  RecordResultResponse,
} from '../queue';
import type { IssuedCertificateRecord } from '../scep';
import type { MdmStorage } from '../storage';
import type { SqlOperations } from './operations';
import { bindStores, type SqlStoreOperations, type SqlStores } from './store-operations';

/** What a dialect hands to {@link SqlStorage}. */
export interface SqlDialect<C> {
  /** The context every operation receives. */
  readonly ctx: C;
  /** The dialect's operation functions, one per storage method. */
  readonly operations: SqlOperations<C>;
  /** The dialect's DEP, secret and audit-event operations (see `store-operations.ts`). */
  readonly stores: SqlStoreOperations<C>;
  /** Runs the dialect's migrations. */
  migrate(ctx: C): Promise<MigrationReport>;
  /** Releases the driver's connections; called once. */
  close(ctx: C): Promise<void>;
}

/**
 * The storage class every SQL adapter extends: it owns the closed state and hands each call to the
 * dialect's operation with the dialect's context. An adapter subclass adds only its constructor and
 * its own getters.
 *
 * @example
 * ```ts
 * import { SqlStorage, type SqlDialect } from '@mdmkit/storage/sql';
 * class MyStorage extends SqlStorage<MyCtx> {
 *   constructor(dialect: SqlDialect<MyCtx>) {
 *     super(dialect);
 *   }
 * }
 * ```
 */
// The optional stores' methods are bound in the constructor from the dialect's `stores`.
// biome-ignore lint/correctness/noUnusedVariables: merged with the class, which uses C
export interface SqlStorage<C> extends SqlStores {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above
export class SqlStorage<C> implements MdmStorage {
  readonly #dialect: SqlDialect<C>;
  readonly #ops: SqlOperations<C>;
  #closed = false;
  /** The dialect's close, shared by every close() call. */
  #closing: Promise<void> | undefined;

  constructor(dialect: SqlDialect<C>) {
    this.#dialect = dialect;
    this.#ops = dialect.operations;
    bindStores(this, dialect.stores, () => this.context);
  }

  /** The context, or CLOSED once {@link close} was called. */
  protected get context(): C {
    if (this.#closed) throw new StorageError('CLOSED', 'storage is closed');
    return this.#dialect.ctx;
  }

  async migrate(): Promise<MigrationReport> {
    return this.#dialect.migrate(this.context);
  }

  /**
   * Refuses new calls at once, then waits for the dialect to finish the writes it already accepted
   * and release its connections. Every call waits for that same close: a second close() (say from
   * another shutdown hook) must not report the storage closed while the first is still committing.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= this.#dialect.close(this.#dialect.ctx);
    await this.#closing;
  }

  async authenticate(input: AuthenticateInput): Promise<void> {
    return this.#ops.authenticate(this.context, input);
  }
  async tokenUpdate(input: TokenUpdateInput): Promise<number> {
    return this.#ops.tokenUpdate(this.context, input);
  }
  async userAuthenticate(input: UserAuthenticateInput): Promise<void> {
    return this.#ops.userAuthenticate(this.context, input);
  }
  async checkOut(id: string, options?: OutboxWrite): Promise<void> {
    return this.#ops.checkOut(this.context, id, options);
  }
  async getEnrollment(id: string): Promise<EnrollmentRecord | undefined> {
    return this.#ops.getEnrollment(this.context, id);
  }
  async putBootstrapToken(id: string, token: Uint8Array): Promise<void> {
    return this.#ops.putBootstrapToken(this.context, id, token);
  }
  async getBootstrapToken(id: string): Promise<Uint8Array | undefined> {
    return this.#ops.getBootstrapToken(this.context, id);
  }
  async touchLastSeen(id: string, at?: Date): Promise<boolean> {
    return this.#ops.touchLastSeen(this.context, id, at);
  }
  async associateCertificate(id: string, certHash: string): Promise<void> {
    return this.#ops.associateCertificate(this.context, id, certHash);
  }
  async replaceCertificate(id: string, certHash: string): Promise<void> {
    return this.#ops.replaceCertificate(this.context, id, certHash);
  }
  async enrollmentForCertificate(certHash: string): Promise<string | undefined> {
    return this.#ops.enrollmentForCertificate(this.context, certHash);
  }
  async isCertificateAssociated(id: string, certHash: string): Promise<boolean> {
    return this.#ops.isCertificateAssociated(this.context, id, certHash);
  }
  async exportEnrollments(options?: PageOptions): Promise<Page<EnrollmentExport>> {
    return this.#ops.exportEnrollments(this.context, options);
  }
  async importEnrollments(items: EnrollmentExport[]): Promise<number> {
    return this.#ops.importEnrollments(this.context, items);
  }

  async enqueueCommand(command: CommandInput, enrollmentIds: string[]): Promise<void> {
    return this.#ops.enqueueCommand(this.context, command, enrollmentIds);
  }
  async nextCommand(id: string, options?: NextCommandOptions): Promise<QueuedCommand | undefined> {
    return this.#ops.nextCommand(this.context, id, options);
  }
  async recordResult(report: CommandReport, options?: { now?: Date }): Promise<RecordResultResponse> {
    return this.#ops.recordResult(this.context, report, options);
  }
  async listQueue(id: string): Promise<QueueEntry[]> {
    return this.#ops.listQueue(this.context, id);
  }
  async clearQueue(id: string): Promise<number> {
    return this.#ops.clearQueue(this.context, id);
  }
  async getResults(commandUuid: string): Promise<CommandResult[]> {
    return this.#ops.getResults(this.context, commandUuid);
  }
  async listHistory(id: string, options?: PageOptions): Promise<Page<CommandResult>> {
    return this.#ops.listHistory(this.context, id, options);
  }
  async deleteFinishedCommands(before: Date): Promise<number> {
    return this.#ops.deleteFinishedCommands(this.context, before);
  }

  async listEnrollments(filter?: EnrollmentFilter): Promise<Page<EnrollmentRecord>> {
    return this.#ops.listEnrollments(this.context, filter);
  }
  async getPushInfo(ids: string[]): Promise<PushInfo[]> {
    return this.#ops.getPushInfo(this.context, ids);
  }

  async putChallenge(challengeHash: string, expiresAt: Date): Promise<void> {
    return this.#ops.putChallenge(this.context, challengeHash, expiresAt);
  }
  async consumeChallenge(challengeHash: string, now?: Date): Promise<boolean> {
    return this.#ops.consumeChallenge(this.context, challengeHash, now);
  }
  async recordSenderNonce(nonceHex: string, expiresAt: Date): Promise<boolean> {
    return this.#ops.recordSenderNonce(this.context, nonceHex, expiresAt);
  }
  async putIssuedCertificate(rec: IssuedCertificateRecord): Promise<void> {
    return this.#ops.putIssuedCertificate(this.context, rec);
  }
  async getIssuedCertificate(serialHex: string): Promise<IssuedCertificateRecord | undefined> {
    return this.#ops.getIssuedCertificate(this.context, serialHex);
  }
  async findIssuedCertificatesBySubject(subject: string): Promise<IssuedCertificateRecord[]> {
    return this.#ops.findIssuedCertificatesBySubject(this.context, subject);
  }

  async getPushCert(topic: string): Promise<StoredPushCert | undefined> {
    return this.#ops.getPushCert(this.context, topic);
  }
  async putPushCert(rec: {
    topic: string;
    certificatePem: string;
    sealedKey: Uint8Array;
  }): Promise<StoredPushCert> {
    return this.#ops.putPushCert(this.context, rec);
  }
  async listPushCerts(): Promise<StoredPushCert[]> {
    return this.#ops.listPushCerts(this.context);
  }

  async acquireLease(name: string, holder: string, ttlMs: number, now?: Date): Promise<Lease | undefined> {
    return this.#ops.acquireLease(this.context, name, holder, ttlMs, now);
  }
  async renewLease(lease: Lease, ttlMs: number, now?: Date): Promise<Lease | undefined> {
    return this.#ops.renewLease(this.context, lease, ttlMs, now);
  }
  async releaseLease(lease: Lease): Promise<boolean> {
    return this.#ops.releaseLease(this.context, lease);
  }
  async getLease(name: string, now?: Date): Promise<Lease | undefined> {
    return this.#ops.getLease(this.context, name, now);
  }
  async writeJobState(name: string, token: number, state: string): Promise<void> {
    return this.#ops.writeJobState(this.context, name, token, state);
  }
  async readJobState(name: string): Promise<JobState | undefined> {
    return this.#ops.readJobState(this.context, name);
  }
}
