import type { StorageLimits } from '../limits';
import type { CommandInput } from '../queue';
import { checkCommand, checkPriority } from '../validate';
import { optionalDate } from './values';

/** A command checked and normalised for insertion. */
export interface PreparedEnqueue {
  readonly priority: number;
  readonly notBefore: Date | null;
  readonly expiresAt: Date | null;
  /** Distinct target ids in ascending order, so concurrent fan-outs lock index entries in one order. */
  readonly ids: string[];
}

/**
 * Validates an enqueue (same codes in every adapter) and returns what the dialect inserts.
 *
 * @example
 * ```ts
 * const { priority, ids } = prepareEnqueue(ctx.limits, command, enrollmentIds);
 * ```
 */
export function prepareEnqueue(
  limits: StorageLimits,
  command: CommandInput,
  enrollmentIds: string[],
): PreparedEnqueue {
  const ids = checkCommand(command, enrollmentIds, limits).sort();
  return {
    priority: checkPriority(command.priority),
    notBefore: optionalDate('notBefore', command.notBefore) ?? null,
    expiresAt: optionalDate('expiresAt', command.expiresAt) ?? null,
    ids,
  };
}
