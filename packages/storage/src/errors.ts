const brand = Symbol.for('mdmkit.error');

/**
 * Stable codes of {@link StorageError}.
 *
 * - `NOT_FOUND`: the record the operation needs does not exist.
 * - `CONFLICT`: a uniqueness rule was broken (duplicate command UUID, certificate already bound to another enrollment).
 * - `UNAVAILABLE`: the database cannot be reached or opened; safe to retry later.
 * - `BUSY`: the database stayed locked or kept failing with serialization errors after the adapter's own retries.
 * - `PAYLOAD_TOO_LARGE`: a command, result or token exceeds the adapter's limits.
 * - `FENCED`: a job-state write presented a fencing token older than the lease's current one.
 * - `MIGRATION_FAILED`: the schema could not be brought to the version this code needs.
 * - `INVALID_INPUT`: an argument is malformed (empty id, bad priority, wrong type).
 * - `CLOSED`: the storage handle was already closed.
 * - `FULL`: a bounded store (SCEP sender nonces) holds its limit of unexpired records; retry after they expire.
 */
export type StorageErrorCode =
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAVAILABLE'
  | 'BUSY'
  | 'PAYLOAD_TOO_LARGE'
  | 'FENCED'
  | 'MIGRATION_FAILED'
  | 'INVALID_INPUT'
  | 'CLOSED'
  | 'FULL';

const retryableCodes: ReadonlySet<StorageErrorCode> = new Set(['UNAVAILABLE', 'BUSY']);

/**
 * The one error type every storage adapter throws. Messages never contain secrets (passwords in
 * URLs are stripped by the adapters); the driver's own error is kept as `cause`.
 *
 * @example
 * ```ts
 * import { StorageError } from '@mdmkit/storage';
 * try {
 *   await storage.enqueueCommand(cmd, ['UDID-1']);
 * } catch (e) {
 *   if (e instanceof StorageError && e.code === 'CONFLICT') {
 *     // the command UUID is already in use
 *   }
 * }
 * ```
 */
export class StorageError extends Error {
  readonly [brand] = true;
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** Whether repeating the same operation later may succeed. */
  get retryable(): boolean {
    return retryableCodes.has(this.code);
  }
}

/** True for an error thrown by any mdmkit package, across duplicate installs. */
export function isMdmkitError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}

/** True when `e` is a {@link StorageError}, optionally with the given code. Works across duplicate installs. */
export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return isMdmkitError(e) && (e as Error).name === 'StorageError' && (code === undefined || e.code === code);
}
