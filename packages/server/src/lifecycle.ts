import { removeProfileCommand } from '@mdmkit/commands';
import type { KeyProvider } from '@mdmkit/crypto';
import type { ParsedStatusReport } from '@mdmkit/declarative';
import type { Command } from '@mdmkit/protocol';
import type {
  AuditEventStore,
  EnrollmentId,
  LifecycleStores,
  MdmStorage,
  SecretStore,
} from '@mdmkit/storage';
import type { MdmService } from './chain';
import { ENROLLMENT_AUDIT_KIND } from './blocking';
import {
  answerDeclarativeCheckin,
  type DeclarationAdmin,
  declarationAdmin,
  latestDdmStatus,
} from './declarations';
import { ServerError } from './errors';
import type { MdmEventListener } from './events';
import { createMigrationImporter, type MigrationImporter } from './migration';
import { createIdentityRenewal, type IdentityRenewal } from './renewal';

/** The stores an enrollment's later life needs; every mdmkit storage adapter has them. */
export type LifecycleStorage = MdmStorage & LifecycleStores & SecretStore & AuditEventStore;

/** Options of the lifecycle features of `createMdmServer`. */
export interface LifecycleOptions {
  /** Identity renewal: window (default 30 days), grace period of the replaced certificate (default 7 days). */
  renewal?: {
    withinDays?: number;
    graceMs?: number;
    holder?: string;
    leaseTtlMs?: number;
    retryAfterMs?: number;
  };
}

/** Default grace period of a renewed identity's predecessor. */
export const DEFAULT_RENEWAL_GRACE_MS = 7 * 86_400_000;

/** Who did an admin operation, and why (both go into the audit log). */
export interface AdminAction {
  actor: string;
  reason: string;
}

/** An enrollment's later life: DDM, renewal, migration, blocking and removal. */
export interface MdmLifecycle {
  /** Declaration sets and their assignments; changes sync the affected devices. */
  readonly declarations: DeclarationAdmin;
  /** The identity-renewal job (start it, or call `runOnce` from your scheduler). */
  readonly renewal: IdentityRenewal;
  /** Imports migrated check-ins; mount it with `createMigrationHandler`. */
  readonly migration: MigrationImporter;
  /** The newest DDM status report of an enrollment. */
  ddmStatus(enrollmentId: EnrollmentId): Promise<ParsedStatusReport | undefined>;
  /** Blocks an enrollment (audited) and pushes it, so that its next check-in gets the 401. */
  block(enrollmentId: EnrollmentId, action: AdminAction): Promise<void>;
  /** Lifts a block (audited). True when there was one. */
  unblock(enrollmentId: EnrollmentId, action: AdminAction): Promise<boolean>;
  /** Removes an enrollment (audited): RemoveProfile of the MDM profile, then the device's CheckOut disables it. */
  remove(enrollmentId: EnrollmentId, action: AdminAction): Promise<{ commandUuid: string }>;
}

/** @internal What the lifecycle needs from the server it belongs to. */
export interface LifecycleContext {
  storage: LifecycleStorage;
  options: LifecycleOptions;
  keyProvider: KeyProvider;
  emit: MdmEventListener;
  now: () => Date;
  core: MdmService;
  enqueue: (command: Command<string, object>, ids: readonly EnrollmentId[]) => Promise<unknown>;
  push: (ids: readonly EnrollmentId[]) => Promise<unknown>;
  renewalProfile: (subjectCn: string) => Promise<Uint8Array>;
  mdmProfileIdentifier: () => string;
}

/**
 * Whether a storage has the lifecycle stores (every mdmkit adapter does).
 *
 * @example
 * ```ts
 * import { hasLifecycleStores } from '@mdmkit/server';
 * import { MemoryStorage } from '@mdmkit/storage';
 * hasLifecycleStores(new MemoryStorage()); // true
 * ```
 */
export function hasLifecycleStores(storage: MdmStorage): storage is LifecycleStorage {
  const s = storage as unknown as Record<string, unknown>;
  return [
    'getEnrollmentBlock',
    'declarationSetsOf',
    'getIdentityCertificate',
    'appendAuditEvent',
    'getSecret',
  ].every((m) => typeof s[m] === 'function');
}

/**
 * Builds the lifecycle operations of a server. @internal
 *
 * @example
 * ```ts
 * const lifecycle = createLifecycle({ storage, options: {}, keyProvider, emit, now, core, enqueue, push, renewalProfile, mdmProfileIdentifier });
 * await lifecycle.block('UDID-1', { actor: 'alice', reason: 'stolen' });
 * ```
 */
export function createLifecycle(ctx: LifecycleContext): MdmLifecycle {
  const { storage, emit, now } = ctx;
  const audit = (action: string, id: EnrollmentId, a: AdminAction) =>
    storage.appendAuditEvent({
      actor: a.actor,
      action,
      owner: id,
      kind: ENROLLMENT_AUDIT_KIND,
      reason: a.reason,
      at: now(),
    });
  const renewal = ctx.options.renewal ?? {};
  return {
    declarations: declarationAdmin({ store: storage, enqueue: ctx.enqueue, emit }),
    renewal: createIdentityRenewal({
      storage,
      keyProvider: ctx.keyProvider,
      renewalProfile: ctx.renewalProfile,
      enqueue: ctx.enqueue,
      now,
      onEvent: emit,
      ...(renewal.withinDays !== undefined ? { withinDays: renewal.withinDays } : {}),
      ...(renewal.holder !== undefined ? { holder: renewal.holder } : {}),
      ...(renewal.leaseTtlMs !== undefined ? { leaseTtlMs: renewal.leaseTtlMs } : {}),
      ...(renewal.retryAfterMs !== undefined ? { retryAfterMs: renewal.retryAfterMs } : {}),
    }),
    migration: createMigrationImporter({ storage, core: ctx.core, now, onEvent: emit }),
    ddmStatus: (id) => latestDdmStatus(storage, id),
    async block(id, action) {
      await storage.blockEnrollment({
        enrollmentId: id,
        actor: action.actor,
        reason: action.reason,
        at: now(),
      });
      await audit('enrollment.block', id, action);
      emit({ type: 'enrollment-blocked', enrollmentId: id, actor: action.actor });
      await ctx.push([id]);
    },
    async unblock(id, action) {
      const was = await storage.unblockEnrollment(id);
      if (was) {
        await audit('enrollment.unblock', id, action);
        emit({ type: 'enrollment-unblocked', enrollmentId: id, actor: action.actor });
      }
      return was;
    },
    async remove(id, action) {
      const e = await storage.getEnrollment(id);
      if (e?.channel !== 'device') throw new ServerError('NOT_FOUND', 'no device enrollment with that id');
      const command = removeProfileCommand({ Identifier: ctx.mdmProfileIdentifier() });
      await audit('enrollment.remove', id, action);
      await ctx.enqueue(command, [id]);
      emit({
        type: 'enrollment-removal',
        enrollmentId: id,
        actor: action.actor,
        commandUuid: command.CommandUUID,
      });
      return { commandUuid: command.CommandUUID };
    },
  };
}

/**
 * The DDM answer the core uses. @internal
 *
 * @example
 * ```ts
 * const core = createCore({ storage, keyProvider, emit, declarative: declarativeAnswer(storage, emit) });
 * ```
 */
export function declarativeAnswer(storage: LifecycleStorage, emit: MdmEventListener) {
  return (checkin: Parameters<typeof answerDeclarativeCheckin>[1]) =>
    answerDeclarativeCheckin(storage, checkin, emit);
}
