import type { AuditEventStore } from '../audit';
import type { DepStore } from '../dep';
import type { OutboxStore } from '../outbox';
import type { LifecycleStores } from '../lifecycle';
import type { SecretStore } from '../secrets';
import type { WithContext } from './operations';

/** The stores every SQL adapter carries beside `MdmStorage`. */
export type SqlStores = DepStore & SecretStore & AuditEventStore & OutboxStore & LifecycleStores;

/** A dialect's DEP, secret, audit-event and outbox operations, context first. */
export type SqlStoreOperations<C> = WithContext<C, SqlStores>;

/**
 * Puts each store operation on `target` as a method that passes the current context first; the
 * context getter throws CLOSED once the storage is closed, so these methods do too.
 *
 * @example
 * ```ts
 * bindStores(storage, dialect.stores, () => ctx);
 * ```
 */
export function bindStores<C>(target: object, ops: SqlStoreOperations<C>, context: () => C): void {
  for (const [name, fn] of Object.entries(ops) as [string, (ctx: C, ...a: unknown[]) => Promise<unknown>][]) {
    Object.defineProperty(target, name, {
      value: async (...args: unknown[]) => fn(context(), ...args),
      enumerable: false,
      writable: false,
    });
  }
}
