import { StorageError } from '@mdmkit/storage';

/** Server error numbers the adapter retries itself: deadlock found, lock wait timeout. */
const transientErrnos = new Set([1213, 1205]);

/** Driver codes and server errnos after which the connection is gone or the server refuses work. */
const connectionCodes = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
// Too many connections, server shutdown in progress, connection killed, server gone away, lost.
const connectionErrnos = new Set([1040, 1053, 1927, 2006, 2013]);

interface DriverError {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
}

function fields(e: unknown): DriverError {
  return typeof e === 'object' && e !== null ? (e as DriverError) : {};
}

/** True for errors the adapter retries itself (deadlocks and lock wait timeouts). */
export function isTransientMysqlError(e: unknown): boolean {
  const { errno } = fields(e);
  return typeof errno === 'number' && transientErrnos.has(errno);
}

/**
 * Errors after which running the whole transaction again is safe: the statement never reached the
 * server (the pooled connection was already closed, e.g. killed while idle) or the server killed
 * the session, which rolls its transaction back.
 */
export function isRetryableMysqlError(e: unknown): boolean {
  if (isTransientMysqlError(e)) return true;
  const { errno } = fields(e);
  if (errno === 1927 || errno === 4031) return true;
  const message = e instanceof Error ? e.message : '';
  return /Can't add new command when connection is in closed state/i.test(message);
}

/** True when the error means the connection is lost or the server cannot take work. */
export function isConnectionError(e: unknown): boolean {
  if (e instanceof StorageError) return e.code === 'UNAVAILABLE';
  const { code, errno, fatal } = fields(e);
  if (typeof code === 'string' && connectionCodes.has(code)) return true;
  if (typeof errno === 'number' && connectionErrnos.has(errno)) return true;
  if (fatal === true) return true;
  const message = e instanceof Error ? e.message : '';
  return /connection is in closed state|Pool is closed|Can't add new command when connection is in closed state/i.test(
    message,
  );
}

/** True for a duplicate-key error (ER_DUP_ENTRY). */
export function isDuplicateKey(e: unknown): boolean {
  return fields(e).errno === 1062;
}

/**
 * Maps a driver error to a {@link StorageError}. Errors that already are one pass through, and so
 * do errors with no storage meaning (a bug in a query), which keep their own stack.
 */
export function toStorageError(e: unknown, what: string): unknown {
  if (e instanceof StorageError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  const { errno } = fields(e);
  if (isConnectionError(e)) return new StorageError('UNAVAILABLE', `${what}: ${detail}`, { cause: e });
  if (errno === 1062) return new StorageError('CONFLICT', `${what}: ${detail}`, { cause: e });
  // Packet too large, data too long for column, row size too large.
  if (errno === 1153 || errno === 1406 || errno === 1118) {
    return new StorageError('PAYLOAD_TOO_LARGE', `${what}: ${detail}`, { cause: e });
  }
  // Incorrect string value (bytes the column's character set cannot hold).
  if (errno === 1366 || errno === 1300) {
    return new StorageError('INVALID_INPUT', `${what}: ${detail}`, { cause: e });
  }
  if (isTransientMysqlError(e)) return new StorageError('BUSY', `${what}: ${detail}`, { cause: e });
  return e;
}
