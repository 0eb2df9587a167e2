import {
  CryptoError,
  type KeyProvider,
  openSecret,
  rewrapSecret,
  sealedKeyId,
  sealSecret,
} from '@mdmkit/crypto';
import type { AuditEvent, AuditEventStore, SecretRecord, SecretStore } from '@mdmkit/storage';
import { isStorageError } from '@mdmkit/storage';
import { EscrowError } from './errors';
import type { SecretKindName } from './kinds';
import { type EscrowLogger, silentLogger } from './logger';

/** Options of {@link createSecretVault}. */
export interface SecretVaultOptions {
  /** Where sealed rows live (every `@mdmkit/storage` adapter with secrets). */
  secrets: SecretStore;
  /** Where read events are recorded; usually the same storage object. */
  audit: AuditEventStore;
  /** Seals new secrets. */
  keyProvider: KeyProvider;
  /**
   * Providers that may still open older rows during a move to `keyProvider` (matched by their `id`),
   * so that secrets stay readable while {@link SecretVault.rewrapAll} runs.
   */
  previousKeyProviders?: readonly KeyProvider[];
  logger?: EscrowLogger;
}

/** Input of {@link SecretVault.read}: who reads which secret, and why. */
export interface SecretReadRequest {
  owner: string;
  kind: SecretKindName;
  /** Who is reading (user name, API client id); recorded in the audit event. */
  actor: string;
  /** Why, as stated by the actor; recorded in the audit event. */
  reason: string;
}

/** A secret handed out by {@link SecretVault.read}, with the audit event recorded for it. */
export interface SecretReading {
  value: Uint8Array;
  /** The value as UTF-8 text (recovery keys, codes and passwords are text). */
  text: string;
  version: number;
  updatedAt: Date;
  event: AuditEvent;
}

/** What {@link SecretVault.rewrapAll} did. */
export interface RewrapReport {
  /** Rows now wrapped by the current provider's key. */
  rewrapped: number;
  /** Rows that were already current. */
  current: number;
  /** Rows another process replaced while we worked; they were left as that process wrote them. */
  replacedMeanwhile: number;
  /**
   * Rows that do not open (`SECRET_UNREADABLE`: corrupted or moved from another row) or were sealed by
   * a provider this vault was not given (`WRONG_KEY_PROVIDER`). They are left untouched and the other
   * rows are still re-wrapped; a failing key provider (`KEY_PROVIDER_FAILED`) stops the run instead.
   */
  unreadable: { owner: string; kind: string; code: 'SECRET_UNREADABLE' | 'WRONG_KEY_PROVIDER' }[];
}

/**
 * Sealed storage for device secrets. Values are sealed with `@mdmkit/crypto` (AES-256-GCM data key
 * wrapped by the key provider) with the owner and kind as associated data. The only way to get a value
 * back is {@link SecretVault.read}, which needs an actor and a reason and records an audit event
 * before it returns.
 */
export interface SecretVault {
  /** Seals and stores a value (replacing the previous one); returns the new row version. */
  put(
    owner: string,
    kind: SecretKindName,
    value: Uint8Array | string,
    options?: { expectedVersion?: number },
  ): Promise<{ version: number }>;
  /** Whether a value is stored, without opening it (no audit event: nothing is revealed). */
  has(owner: string, kind: SecretKindName): Promise<boolean>;
  /** Removes a stored value. */
  delete(owner: string, kind: SecretKindName): Promise<boolean>;
  /**
   * Records an audit event (actor, owner, kind, reason, time), then opens and returns the value.
   *
   * @throws EscrowError `INVALID_INPUT` without actor or reason; `NOT_FOUND`; `SECRET_UNREADABLE` for
   * a row that does not open for this owner and kind; `WRONG_KEY_PROVIDER`; `KEY_PROVIDER_FAILED`.
   */
  read(request: SecretReadRequest): Promise<SecretReading>;
  /**
   * Moves every row to the current key provider's key: re-wraps each data key (the ciphertext is
   * untouched) and writes it back only if the row is still the version read, so that a secret another
   * process stored meanwhile is never overwritten.
   */
  rewrapAll(options?: { owner?: string }): Promise<RewrapReport>;
}

const enc = new TextEncoder();

function requireText(what: string, v: unknown): asserts v is string {
  if (typeof v !== 'string' || v.trim() === '') {
    throw new EscrowError('INVALID_INPUT', `${what} must be a non-empty string`);
  }
}

/** Owners under `mdmkit:` are the package's own rows (escrow identities): never planted, read or removed here. */
function requireDeviceOwner(owner: unknown): asserts owner is string {
  requireText('owner', owner);
  if (owner.startsWith('mdmkit:')) {
    throw new EscrowError(
      'INVALID_INPUT',
      'owners starting with "mdmkit:" are reserved for the package itself',
    );
  }
}

/** Maps a failure to open a row to this package's codes, without saying more than crypto did. */
function openFailure(owner: string, kind: string, e: unknown): EscrowError {
  if (e instanceof EscrowError) return e;
  if (e instanceof CryptoError && e.code === 'KEY_PROVIDER_FAILED') {
    return new EscrowError('KEY_PROVIDER_FAILED', `the key provider failed on ${kind} of ${owner}`, {
      cause: e,
    });
  }
  return new EscrowError(
    'SECRET_UNREADABLE',
    `stored ${kind} of ${owner} does not open for its owner and kind`,
    {
      cause: e,
    },
  );
}

/**
 * Creates a {@link SecretVault} over a secret store and an audit-event store.
 *
 * @example
 * ```ts
 * import { createStaticKeyProvider } from '@mdmkit/crypto';
 * import { MemoryStorage } from '@mdmkit/storage';
 * import { createSecretVault, SecretKind } from '@mdmkit/escrow';
 *
 * const storage = new MemoryStorage();
 * const vault = createSecretVault({
 *   secrets: storage,
 *   audit: storage,
 *   keyProvider: createStaticKeyProvider(new Uint8Array(32).fill(7)),
 * });
 * await vault.put('UDID-1', SecretKind.localAdminPassword, 'correct horse');
 * const { text, event } = await vault.read({ owner: 'UDID-1', kind: SecretKind.localAdminPassword, actor: 'alice', reason: 'ticket 42' });
 * console.log(text.length, event.actor); // 13 'alice'
 * ```
 */
export function createSecretVault(options: SecretVaultOptions): SecretVault {
  const { secrets, audit, keyProvider } = options;
  const logger = options.logger ?? silentLogger;
  const providers = new Map<string, KeyProvider>();
  for (const p of options.previousKeyProviders ?? []) providers.set(p.id, p);
  providers.set(keyProvider.id, keyProvider);

  const providerFor = (rec: SecretRecord): KeyProvider => {
    let id: string;
    try {
      id = sealedKeyId(rec.sealed).providerId;
    } catch (e) {
      throw openFailure(rec.owner, rec.kind, e);
    }
    const p = providers.get(id);
    if (!p) {
      throw new EscrowError(
        'WRONG_KEY_PROVIDER',
        `stored ${rec.kind} of ${rec.owner} was sealed by key provider "${id}", which this vault was not given`,
      );
    }
    return p;
  };

  const storageCall = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (isStorageError(e, 'CONFLICT'))
        throw new EscrowError('CONFLICT', `${what}: changed by another process`, { cause: e });
      throw e;
    }
  };

  return {
    async put(owner, kind, value, putOptions = {}) {
      requireDeviceOwner(owner);
      requireText('kind', kind);
      const bytes = typeof value === 'string' ? enc.encode(value) : value;
      if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
        throw new EscrowError('INVALID_INPUT', 'a secret must be non-empty bytes or text');
      }
      let sealed: Uint8Array;
      try {
        sealed = await sealSecret(bytes, { provider: keyProvider, owner, kind });
      } catch (e) {
        throw new EscrowError('KEY_PROVIDER_FAILED', `cannot seal ${kind} of ${owner}`, { cause: e });
      }
      const rec = await storageCall(`storing ${kind} of ${owner}`, () =>
        secrets.putSecret({
          owner,
          kind,
          sealed,
          ...(putOptions.expectedVersion !== undefined && { expectedVersion: putOptions.expectedVersion }),
        }),
      );
      logger.info('secret stored', { owner, kind, version: rec.version });
      return { version: rec.version };
    },

    async has(owner, kind) {
      requireDeviceOwner(owner);
      return (await secrets.getSecret(owner, kind)) !== undefined;
    },

    async delete(owner, kind) {
      requireDeviceOwner(owner);
      const gone = await secrets.deleteSecret(owner, kind);
      if (gone) logger.info('secret deleted', { owner, kind });
      return gone;
    },

    async read(request) {
      // Each field is read once: what is checked is what is recorded and what is opened.
      const { owner, kind, actor, reason } = request ?? ({} as Partial<SecretReadRequest>);
      requireText('actor', actor);
      requireText('reason', reason);
      requireDeviceOwner(owner);
      requireText('kind', kind);
      const rec = await secrets.getSecret(owner, kind);
      if (!rec) throw new EscrowError('NOT_FOUND', `no ${kind} is stored for ${owner}`);
      // The event is durable before anything is opened: a read that is not recorded does not happen.
      const event = await audit.appendAuditEvent({ actor, action: 'secret.read', owner, kind, reason });
      logger.info('secret read', { owner, kind, actor, event: event.id });
      const provider = providerFor(rec);
      let value: Uint8Array;
      try {
        value = await openSecret(rec.sealed, { provider, owner, kind });
      } catch (e) {
        const err = openFailure(owner, kind, e);
        logger.warn('stored secret does not open', { owner, kind, code: err.code });
        throw err;
      }
      return {
        value,
        text: new TextDecoder().decode(value),
        version: rec.version,
        updatedAt: rec.updatedAt,
        event,
      };
    },

    async rewrapAll(rewrapOptions = {}) {
      const report: RewrapReport = { rewrapped: 0, current: 0, replacedMeanwhile: 0, unreadable: [] };
      const targetKeyId = (keyProvider as { currentKeyId?: unknown }).currentKeyId;
      let after: string | undefined;
      do {
        const page = await secrets.listSecrets({
          limit: 100,
          ...(rewrapOptions.owner !== undefined && { owner: rewrapOptions.owner }),
          ...(after !== undefined && { after }),
        });
        for (const rec of page.items) {
          let sealed: Uint8Array;
          try {
            const from = providerFor(rec);
            const ids = sealedKeyId(rec.sealed);
            if (from === keyProvider && (typeof targetKeyId !== 'string' || ids.keyId === targetKeyId)) {
              report.current++;
              continue;
            }
            sealed = await rewrapSecret(rec.sealed, {
              from,
              to: keyProvider,
              owner: rec.owner,
              kind: rec.kind,
            });
          } catch (e) {
            const err = openFailure(rec.owner, rec.kind, e);
            if (err.code !== 'SECRET_UNREADABLE' && err.code !== 'WRONG_KEY_PROVIDER') throw err;
            // One bad row must not hold every other row on the old key.
            logger.warn('stored secret left as it is: it does not open', {
              owner: rec.owner,
              kind: rec.kind,
              code: err.code,
            });
            report.unreadable.push({ owner: rec.owner, kind: rec.kind, code: err.code });
            continue;
          }
          try {
            await secrets.putSecret({
              owner: rec.owner,
              kind: rec.kind,
              sealed,
              expectedVersion: rec.version,
            });
            report.rewrapped++;
          } catch (e) {
            if (!isStorageError(e, 'CONFLICT')) throw e;
            // Another process wrote a new value (sealed by whichever key it had): keep it.
            report.replacedMeanwhile++;
          }
        }
        after = page.next;
      } while (after !== undefined);
      logger.info('secrets re-wrapped', {
        rewrapped: report.rewrapped,
        current: report.current,
        replacedMeanwhile: report.replacedMeanwhile,
        unreadable: report.unreadable.length,
      });
      return report;
    },
  };
}
