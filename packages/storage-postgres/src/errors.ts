import { StorageError } from '@mdmkit/storage';

/** PostgreSQL SQLSTATEs that mean "run the transaction again": serialization failure, deadlock. */
const transientStates = new Set(['40001', '40P01']);

/** Node socket errors and SQLSTATEs after which the connection is gone or the server is unusable. */
const connectionCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for errors the adapter retries itself (serialization failures and deadlocks). */
export function isTransientPgError(e: unknown): boolean {
  const code = codeOf(e);
  return code !== undefined && transientStates.has(code);
}

/**
 * Server-side session terminations (admin shutdown, crash shutdown, starting up). The server aborts
 * the session's transaction before sending them, so running the whole transaction again on a fresh
 * connection cannot store anything twice. This is also what a pooled connection killed while idle
 * reports on its next use.
 */
const terminatedStates = new Set(['57P01', '57P02', '57P03']);

/** True for errors worth running the whole transaction again for. */
export function isRetryablePgError(e: unknown): boolean {
  const code = codeOf(e);
  return code !== undefined && (transientStates.has(code) || terminatedStates.has(code));
}

/** True when the error means the connection is lost or the server cannot take work. */
export function isConnectionError(e: unknown): boolean {
  if (e instanceof StorageError) return e.code === 'UNAVAILABLE';
  const code = codeOf(e);
  if (code !== undefined && (connectionCodes.has(code) || code.startsWith('08'))) return true;
  const message = e instanceof Error ? e.message : '';
  return /Connection terminated|connection error|Client was closed|timeout exceeded when trying to connect|not queryable|Cannot use a pool after calling end/i.test(
    message,
  );
}

/**
 * Maps a driver error to a {@link StorageError}. Errors that already are one pass through, and so
 * do errors with no storage meaning (a bug in a query), which keep their own stack.
 */
export function toStorageError(e: unknown, what: string): unknown {
  if (e instanceof StorageError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  const code = codeOf(e);
  if (isConnectionError(e)) return new StorageError('UNAVAILABLE', `${what}: ${detail}`, { cause: e });
  if (code === '23505') return new StorageError('CONFLICT', `${what}: ${detail}`, { cause: e });
  if (code === '54000' || code === '22001') {
    return new StorageError('PAYLOAD_TOO_LARGE', `${what}: ${detail}`, { cause: e });
  }
  if (code === '22021' || code === '22P05') {
    return new StorageError('INVALID_INPUT', `${what}: ${detail}`, { cause: e });
  }
  if (isTransientPgError(e)) return new StorageError('BUSY', `${what}: ${detail}`, { cause: e });
  return e;
}
