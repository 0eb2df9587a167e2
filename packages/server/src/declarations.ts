import { declarativeManagementCommand } from '@mdmkit/commands';
import {
  answerDeclarativeRequest,
  createDeclarationSet,
  type DeclarationInput,
  type DeclarationSet,
  isMdmkitError as isDeclarativeError,
  type ParsedStatusReport,
} from '@mdmkit/declarative';
import type { HttpResponse } from '@mdmkit/http';
import type { DecodedCheckin } from '@mdmkit/protocol';
import type {
  DdmStatusStore,
  DeclarationAssignmentStore,
  DeclarationSetStore,
  EnrollmentId,
} from '@mdmkit/storage';
import { ServerError } from './errors';
import type { MdmEventListener } from './events';

/** What DDM needs from storage. */
export type DeclarationStores = DeclarationSetStore & DeclarationAssignmentStore & DdmStatusStore;

/** The `DeclarativeManagement` check-in message as decoded. */
type DeclarativeCheckin = Extract<DecodedCheckin, { messageType: 'DeclarativeManagement' }>;

/**
 * The declaration set an enrollment holds: every set assigned to it (its own, its groups'), merged
 * in set-name order. An identifier that two sets both carry is served from the first set; the
 * timestamp is the newest change of any of them.
 *
 * @example
 * ```ts
 * import { declarationSetFor } from '@mdmkit/server';
 * const set = await declarationSetFor(storage, 'UDID-1');
 * set.tokens().SyncTokens.DeclarationsToken;
 * ```
 */
export async function declarationSetFor(
  store: Pick<DeclarationStores, 'declarationSetsOf' | 'getDeclarationSet'>,
  enrollmentId: EnrollmentId,
): Promise<DeclarationSet> {
  const names = await store.declarationSetsOf(enrollmentId);
  const seen = new Set<string>();
  const merged: DeclarationInput[] = [];
  let newest = 0;
  for (const name of names) {
    const rec = await store.getDeclarationSet(name);
    if (!rec) continue;
    newest = Math.max(newest, rec.updatedAt.getTime());
    for (const d of JSON.parse(rec.declarations) as DeclarationInput[]) {
      if (seen.has(d.Identifier)) continue;
      seen.add(d.Identifier);
      merged.push(d);
    }
  }
  return createDeclarationSet(merged, { timestamp: new Date(newest) });
}

/**
 * Answers a `DeclarativeManagement` check-in from the enrollment's declaration set, with
 * `@mdmkit/declarative`'s endpoint logic; a `status` report is stored as typed status (history kept).
 * A request the protocol does not define is answered 400.
 *
 * @example
 * ```ts
 * import { answerDeclarativeCheckin } from '@mdmkit/server';
 * const response = await answerDeclarativeCheckin(storage, checkin, emit);
 * ```
 */
export async function answerDeclarativeCheckin(
  store: DeclarationStores,
  checkin: DeclarativeCheckin,
  emit: MdmEventListener,
): Promise<HttpResponse> {
  const id = checkin.enrollment.id;
  const set = await declarationSetFor(store, id);
  let answer: ReturnType<typeof answerDeclarativeRequest>;
  try {
    answer = answerDeclarativeRequest(set, checkin.message);
  } catch (e) {
    if (isDeclarativeError(e))
      throw new ServerError('BAD_MESSAGE', 'not a DDM request this server answers', { cause: e });
    throw e;
  }
  if (answer.endpoint === 'status') {
    await storeStatus(store, id, answer.report);
    emit({
      type: 'ddm-status',
      enrollmentId: id,
      items: Object.keys(answer.report.items).length,
      errors: answer.report.errors.length,
    });
    return { status: 200 };
  }
  if (answer.status === 404) return { status: 404 };
  return { status: 200, headers: { 'content-type': answer.contentType }, body: answer.body };
}

async function storeStatus(
  store: DdmStatusStore,
  id: EnrollmentId,
  report: ParsedStatusReport,
): Promise<void> {
  await store.appendDdmStatus(id, JSON.stringify(report));
}

/**
 * The newest stored status report of an enrollment, parsed back, or undefined.
 *
 * @example
 * ```ts
 * import { latestDdmStatus } from '@mdmkit/server';
 * const status = await latestDdmStatus(storage, 'UDID-1');
 * status?.items['softwareupdate.pending-version'];
 * ```
 */
export async function latestDdmStatus(
  store: Pick<DdmStatusStore, 'listDdmStatus'>,
  enrollmentId: EnrollmentId,
): Promise<ParsedStatusReport | undefined> {
  const newest = (await store.listDdmStatus(enrollmentId, { limit: 1 })).items[0];
  return newest ? (JSON.parse(newest.report) as ParsedStatusReport) : undefined;
}

/** Options of {@link declarationAdmin}. */
export interface DeclarationAdminOptions {
  store: DeclarationStores;
  /** Queues a command and pushes (the server's `enqueue`). */
  enqueue: (
    command: ReturnType<typeof declarativeManagementCommand>,
    ids: readonly EnrollmentId[],
  ) => Promise<unknown>;
  emit: MdmEventListener;
}

/** Changing declaration sets and who holds them; every change syncs the affected devices. */
export interface DeclarationAdmin {
  /** Checks and stores a set (replacing it), then syncs every enrollment it is assigned to. */
  putSet(name: string, declarations: Iterable<DeclarationInput>): Promise<{ synced: EnrollmentId[] }>;
  /** Removes a set and its assignments, then syncs the enrollments that held it. */
  deleteSet(name: string): Promise<{ synced: EnrollmentId[] }>;
  /** Assigns a set to enrollments (one: a device's own set; several: a group's) and syncs them. */
  assign(name: string, enrollmentIds: readonly EnrollmentId[]): Promise<{ synced: EnrollmentId[] }>;
  /** Removes assignments and syncs those enrollments. */
  unassign(name: string, enrollmentIds: readonly EnrollmentId[]): Promise<{ synced: EnrollmentId[] }>;
}

/**
 * Declaration-set administration: a change enqueues the `DeclarativeManagement` command (which
 * makes the device fetch `tokens` and sync) for every affected enrollment and pushes them.
 *
 * @example
 * ```ts
 * import { declarationAdmin } from '@mdmkit/server';
 * const ddm = declarationAdmin({ store: storage, enqueue: (c, ids) => mdm.enqueue(c, ids), emit: () => {} });
 * await ddm.putSet('group:all', [passcode, activation]);
 * await ddm.assign('group:all', ['UDID-1', 'UDID-2']);
 * ```
 */
export function declarationAdmin(options: DeclarationAdminOptions): DeclarationAdmin {
  const { store } = options;
  async function holders(name: string): Promise<EnrollmentId[]> {
    const out: EnrollmentId[] = [];
    let after: string | undefined;
    do {
      const page = await store.enrollmentsWithDeclarationSet(name, {
        limit: 1000,
        ...(after ? { after } : {}),
      });
      out.push(...page.items);
      after = page.next;
    } while (after);
    return out;
  }
  async function sync(name: string, ids: EnrollmentId[]): Promise<{ synced: EnrollmentId[] }> {
    if (ids.length > 0) await options.enqueue(declarativeManagementCommand(), ids);
    options.emit({ type: 'declarations-changed', setName: name, enrollmentIds: ids });
    return { synced: ids };
  }
  return {
    async putSet(name, declarations) {
      // Built (checked, tokens computed) before anything is stored: a bad set never reaches a device.
      const set = createDeclarationSet(declarations);
      await store.putDeclarationSet(name, JSON.stringify(set.declarations));
      return sync(name, await holders(name));
    },
    async deleteSet(name) {
      const ids = await holders(name);
      await store.deleteDeclarationSet(name);
      return sync(name, ids);
    },
    async assign(name, ids) {
      await store.assignDeclarationSet(name, ids);
      return sync(name, [...new Set(ids)]);
    },
    async unassign(name, ids) {
      await store.unassignDeclarationSet(name, ids);
      return sync(name, [...new Set(ids)]);
    },
  };
}
