import type { Page, PageOptions } from './enrollment';

/**
 * One stored secret: a blob sealed with `@mdmkit/crypto`'s `sealSecret`, never plaintext. The store
 * does not know how to open it; `owner` and `kind` are the same values the blob's associated data
 * binds, so a blob copied into another row no longer opens.
 */
export interface SecretRecord {
  /** Whose secret it is: a device UDID, an enrollment id, or a server-side name. */
  owner: string;
  /** What it is, e.g. `filevault-prk`, `activation-lock-bypass`, `bootstrap-token`. */
  kind: string;
  /** The sealed blob. */
  sealed: Uint8Array;
  /** 1 on first write, +1 on each replacement; the compare-and-set token of {@link SecretStore.putSecret}. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Input of {@link SecretStore.putSecret}. */
export interface PutSecretInput {
  owner: string;
  kind: string;
  sealed: Uint8Array;
  /**
   * Compare-and-set: `0` writes only when no row exists, `n` only when the row is at version `n`;
   * otherwise the write fails with `CONFLICT` and nothing changes. Absent: write unconditionally.
   * Key rotation uses it so that a re-wrap never overwrites a secret another process just replaced.
   */
  expectedVersion?: number;
}

/** Options of {@link SecretStore.listSecrets}. `after` is the `next` cursor of the previous page. */
export interface ListSecretsOptions extends PageOptions {
  /** Only this owner's secrets. */
  owner?: string;
  /** Only secrets of this kind. */
  kind?: string;
}

/**
 * Sealed device secrets (FileVault recovery keys, bypass codes, bootstrap tokens, passwords), one
 * row per (owner, kind). Adapters store the sealed bytes as given and never log them.
 *
 * @example
 * ```ts
 * const rec = await storage.putSecret({ owner: udid, kind: 'filevault-prk', sealed, expectedVersion: 0 });
 * const again = await storage.getSecret(udid, 'filevault-prk');
 * ```
 */
export interface SecretStore {
  getSecret(owner: string, kind: string): Promise<SecretRecord | undefined>;
  /** Stores or replaces a secret; see {@link PutSecretInput.expectedVersion}. */
  putSecret(input: PutSecretInput): Promise<SecretRecord>;
  /** Removes a secret; with `expectedVersion`, only at that version (else `CONFLICT`). True when a row went. */
  deleteSecret(owner: string, kind: string, expectedVersion?: number): Promise<boolean>;
  /** Secrets in (owner, kind) order, a page at a time, for re-wrapping and inventories. */
  listSecrets(options?: ListSecretsOptions): Promise<Page<SecretRecord>>;
}
