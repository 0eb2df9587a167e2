import { ProtocolError, type ProtocolErrorCode } from '@mdmkit/protocol';
import { KeyPathError } from '@mdmkit/protocol/schema';

/**
 * Stable codes of {@link CommandError}: every code of `ProtocolError` (the envelope and plist
 * checks this package runs through @mdmkit/protocol keep their code) plus the ones of this package.
 */
export type CommandErrorCode =
  | ProtocolErrorCode
  /** An access-right name the alias table does not know (a newer schema release). */
  | 'UNKNOWN_ACCESS_RIGHT'
  /** A payload key the schema marks as unavailable on the platform the builder was asked for. */
  | 'KEY_NOT_AVAILABLE';

/**
 * The error every public function of @mdmkit/commands throws. `keyPath` points at the first problem
 * (e.g. `['Command', 'Queries', 0]`); `issues` lists all of them.
 *
 * @example
 * ```ts
 * try {
 *   deviceInformationCommand({ Queries: ['NoSuchQuery' as never] });
 * } catch (e) {
 *   if (e instanceof CommandError) console.log(e.code, e.keyPath.join('.')); // INVALID_COMMAND Command.Queries.0
 * }
 * ```
 */
export class CommandError extends KeyPathError<CommandErrorCode> {
  override readonly name = 'CommandError';
}

/**
 * Runs `fn` and turns a `ProtocolError` it throws into a {@link CommandError} with the same code,
 * key path and issues (the original is the `cause`), so callers of this package catch one class.
 *
 * @example
 * ```ts
 * const dict = asCommandError(() => parseBody(body, 'report')); // throws CommandError
 * ```
 */
export function asCommandError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ProtocolError) {
      throw new CommandError(e.code, e.message, { cause: e, keyPath: e.keyPath, issues: e.issues });
    }
    throw e;
  }
}
