import type { AuditEventStore, MdmStorage, SecretStore } from '@mdmkit/storage';

/** What the reference server needs from storage: the MDM stores plus sealed secrets and audit events. */
export type ServerStorage = MdmStorage & SecretStore & AuditEventStore;

const NEEDED = [
  'getSecret',
  'putSecret',
  'deleteSecret',
  'listSecrets',
  'appendAuditEvent',
  'listAuditEvents',
] as const;

/**
 * Whether a storage handle also keeps sealed secrets and audit events (every adapter mdmkit ships does).
 *
 * @example
 * ```ts
 * import { MemoryStorage } from '@mdmkit/storage';
 * import { hasServerStores } from '@mdmkit/reference-server';
 * console.log(hasServerStores(new MemoryStorage())); // true
 * ```
 */
export function hasServerStores(storage: MdmStorage): storage is ServerStorage {
  const s = storage as unknown as Record<string, unknown>;
  return NEEDED.every((m) => typeof s[m] === 'function');
}

/** Owner of every row the server keeps for itself in the secret store. */
export const SERVER_OWNER = 'mdmkit-server';
