import type { AuditEvent, AuditEventInput, AuditEventStore, ListAuditEventsOptions } from './audit';
import type { Page } from './enrollment';
import { StorageError } from './errors';
import { checkBytes, checkKey, resolveLimits, type StorageLimits } from './limits';
import type { ListSecretsOptions, PutSecretInput, SecretRecord, SecretStore } from './secrets';
import { checkDate, pageSize } from './validate';

/** The rows one in-memory database holds for secrets and audit events; handles share it. */
export class MemorySecretData {
  secrets = new Map<string, SecretRecord>();
  events: AuditEvent[] = [];
}

/** Cursor of a secret row: owner and kind, unambiguous whatever characters they hold. */
export function secretCursor(owner: string, kind: string): string {
  return JSON.stringify([owner, kind]);
}

export function parseSecretCursor(after: string | undefined): [string, string] | undefined {
  if (after === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(after);
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') {
      return [v[0], v[1]];
    }
  } catch {
    // fall through
  }
  throw new StorageError('INVALID_INPUT', 'after is not a cursor returned by listSecrets');
}

function compareKeys(a: [string, string], b: [string, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

export function checkVersion(v: unknown): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) {
    throw new StorageError('INVALID_INPUT', 'expectedVersion must be a non-negative integer');
  }
}

function copySecret(r: SecretRecord): SecretRecord {
  return {
    ...r,
    sealed: new Uint8Array(r.sealed),
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
  };
}

/** Event ids: a zero-padded sequence, so that string order is append order. */
export const EVENT_ID_DIGITS = 16;

/**
 * The in-memory {@link SecretStore} and {@link AuditEventStore}: the reference behaviour the
 * conformance suite checks database adapters against. `MemoryStorage` carries one; it can also be
 * used alone.
 *
 * @example
 * ```ts
 * import { MemorySecretStore } from '@mdmkit/storage';
 * const store = new MemorySecretStore();
 * await store.putSecret({ owner: 'UDID-1', kind: 'filevault-prk', sealed });
 * ```
 */
export class MemorySecretStore implements SecretStore, AuditEventStore {
  readonly #data: MemorySecretData;
  readonly #limits: StorageLimits;
  readonly #isOpen: () => void;

  /**
   * @param options.data shared rows (several handles on one database); default fresh.
   * @param options.checkOpen throws when the owning handle is closed.
   */
  constructor(
    options: { data?: MemorySecretData; limits?: Partial<StorageLimits>; checkOpen?: () => void } = {},
  ) {
    this.#data = options.data ?? new MemorySecretData();
    this.#limits = resolveLimits(options.limits);
    this.#isOpen = options.checkOpen ?? (() => {});
  }

  #keys(owner: unknown, kind: unknown): string {
    this.#isOpen();
    checkKey('secret owner', owner, this.#limits.maxKeyLength);
    checkKey('secret kind', kind, this.#limits.maxKeyLength);
    return secretCursor(owner, kind);
  }

  async getSecret(owner: string, kind: string): Promise<SecretRecord | undefined> {
    const r = this.#data.secrets.get(this.#keys(owner, kind));
    return r ? copySecret(r) : undefined;
  }

  async putSecret(input: PutSecretInput): Promise<SecretRecord> {
    const key = this.#keys(input?.owner, input?.kind);
    if (!(input.sealed instanceof Uint8Array) || input.sealed.length === 0) {
      throw new StorageError('INVALID_INPUT', 'sealed must be non-empty bytes');
    }
    checkBytes('sealed secret', input.sealed, this.#limits.maxBlobBytes);
    checkVersion(input.expectedVersion);
    const existing = this.#data.secrets.get(key);
    if (input.expectedVersion !== undefined && (existing?.version ?? 0) !== input.expectedVersion) {
      throw new StorageError(
        'CONFLICT',
        `secret ${input.kind} of ${input.owner} is at version ${existing?.version ?? 0}, not ${input.expectedVersion}`,
      );
    }
    const now = new Date();
    const rec: SecretRecord = {
      owner: input.owner,
      kind: input.kind,
      sealed: new Uint8Array(input.sealed),
      version: (existing?.version ?? 0) + 1,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#data.secrets.set(key, rec);
    return copySecret(rec);
  }

  async deleteSecret(owner: string, kind: string, expectedVersion?: number): Promise<boolean> {
    const key = this.#keys(owner, kind);
    checkVersion(expectedVersion);
    const existing = this.#data.secrets.get(key);
    if (expectedVersion !== undefined && (existing?.version ?? 0) !== expectedVersion) {
      throw new StorageError('CONFLICT', `secret ${kind} of ${owner} is not at version ${expectedVersion}`);
    }
    return this.#data.secrets.delete(key);
  }

  async listSecrets(options: ListSecretsOptions = {}): Promise<Page<SecretRecord>> {
    this.#isOpen();
    if (options.owner !== undefined) checkKey('secret owner', options.owner, this.#limits.maxKeyLength);
    if (options.kind !== undefined) checkKey('secret kind', options.kind, this.#limits.maxKeyLength);
    const after = parseSecretCursor(options.after);
    const limit = pageSize(options);
    const rows = [...this.#data.secrets.values()]
      .filter(
        (r) =>
          (options.owner === undefined || r.owner === options.owner) &&
          (options.kind === undefined || r.kind === options.kind) &&
          (after === undefined || compareKeys([r.owner, r.kind], after) > 0),
      )
      .sort((a, b) => compareKeys([a.owner, a.kind], [b.owner, b.kind]));
    const items = rows.slice(0, limit).map(copySecret);
    const last = items[items.length - 1];
    return rows.length > limit && last ? { items, next: secretCursor(last.owner, last.kind) } : { items };
  }

  async appendAuditEvent(event: AuditEventInput): Promise<AuditEvent> {
    this.#isOpen();
    for (const k of ['actor', 'action', 'owner', 'kind'] as const) {
      checkKey(`audit ${k}`, event?.[k], this.#limits.maxKeyLength);
    }
    if (typeof event.reason !== 'string' || event.reason.trim() === '') {
      throw new StorageError('INVALID_INPUT', 'audit reason must be a non-empty string');
    }
    checkBytes('audit reason', new TextEncoder().encode(event.reason), this.#limits.maxBlobBytes);
    checkDate('audit time', event.at, true);
    const stored: AuditEvent = {
      id: String(this.#data.events.length + 1).padStart(EVENT_ID_DIGITS, '0'),
      actor: event.actor,
      action: event.action,
      owner: event.owner,
      kind: event.kind,
      reason: event.reason,
      at: new Date(event.at ?? Date.now()),
    };
    this.#data.events.push(stored);
    return { ...stored, at: new Date(stored.at) };
  }

  async listAuditEvents(options: ListAuditEventsOptions = {}): Promise<Page<AuditEvent>> {
    this.#isOpen();
    const limit = pageSize(options);
    const rows = this.#data.events.filter(
      (e) =>
        (options.after === undefined || e.id > options.after) &&
        (options.owner === undefined || e.owner === options.owner) &&
        (options.actor === undefined || e.actor === options.actor),
    );
    const items = rows.slice(0, limit).map((e) => ({ ...e, at: new Date(e.at) }));
    const last = items[items.length - 1];
    return rows.length > limit && last ? { items, next: last.id } : { items };
  }
}
