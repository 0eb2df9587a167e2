const brand = Symbol.for('mdmkit.error');

/**
 * Stable codes of {@link EscrowError}.
 *
 * - `INVALID_INPUT`: an argument is malformed (empty actor or reason, bad alphabet, wrong type).
 * - `INVALID_BYPASS_CODE`: text that is not an Activation Lock bypass code, or a hash that is not 64 hex digits.
 * - `NOT_FOUND`: no secret of that kind is stored for that owner.
 * - `NO_ESCROW_KEY`: a message is encrypted for a certificate whose key this server does not hold.
 * - `DECRYPT_FAILED`: a message for one of our certificates does not decrypt, or not to text (damaged).
 * - `INVALID_RESPONSE`: a device's response lacks what the operation needs or holds an unusable value.
 * - `SECRET_UNREADABLE`: a stored row does not open for its owner and kind (corrupted, or copied from another row).
 * - `WRONG_KEY_PROVIDER`: a stored row was sealed by a key provider this vault was not given.
 * - `KEY_PROVIDER_FAILED`: the key provider itself failed.
 * - `CONFLICT`: another process changed the row first; nothing was overwritten.
 */
export type EscrowErrorCode =
  | 'INVALID_INPUT'
  | 'INVALID_BYPASS_CODE'
  | 'NOT_FOUND'
  | 'NO_ESCROW_KEY'
  | 'DECRYPT_FAILED'
  | 'INVALID_RESPONSE'
  | 'SECRET_UNREADABLE'
  | 'WRONG_KEY_PROVIDER'
  | 'KEY_PROVIDER_FAILED'
  | 'CONFLICT';

/**
 * The error `@mdmkit/escrow` throws. Messages name owners and kinds, never secret values.
 *
 * @example
 * ```ts
 * import { EscrowError } from '@mdmkit/escrow';
 * try {
 *   await vault.read({ owner: udid, kind: 'filevault-prk', actor: 'alice', reason: 'user locked out' });
 * } catch (e) {
 *   if (e instanceof EscrowError && e.code === 'NOT_FOUND') console.log('no key escrowed yet');
 * }
 * ```
 */
export class EscrowError extends Error {
  readonly [brand] = true;
  override readonly name = 'EscrowError';
  readonly code: EscrowErrorCode;
  constructor(code: EscrowErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * True for an error thrown by any mdmkit package, across duplicate installs.
 *
 * @example
 * ```ts
 * if (isMdmkitError(e)) console.log(e.code);
 * ```
 */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
