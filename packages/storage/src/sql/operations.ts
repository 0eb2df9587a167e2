import type { MdmStorage } from '../storage';

/**
 * The methods of interface `I`, each taking the dialect's context first: what a dialect writes for
 * one storage interface. For example `WithContext<Ctx, ScepNonceStore>` is
 * `{ recordSenderNonce(ctx: Ctx, nonceHex: string, expiresAt: Date): Promise<boolean> }`.
 *
 * @example
 * ```ts
 * import type { ScepNonceStore } from '@mdmkit/storage';
 * import type { WithContext } from '@mdmkit/storage/sql';
 * const nonces: WithContext<{ seen: Set<string> }, ScepNonceStore> = {
 *   async recordSenderNonce(ctx, nonceHex) {
 *     if (ctx.seen.has(nonceHex)) return false;
 *     ctx.seen.add(nonceHex);
 *     return true;
 *   },
 * };
 * ```
 */
export type WithContext<C, I> = {
  [K in keyof I]: I[K] extends (...args: infer A) => infer R ? (ctx: C, ...args: A) => R : never;
};

/** Every data operation of {@link MdmStorage} (all but `migrate` and `close`), context first. */
export type SqlOperations<C> = WithContext<C, Omit<MdmStorage, 'migrate' | 'close'>>;
