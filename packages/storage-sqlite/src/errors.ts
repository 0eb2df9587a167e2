import { StorageError } from '@mdmkit/storage';

const busyCodes = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED']);
const unavailableCodes = [
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
  'SQLITE_CORRUPT',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_PERM',
  'SQLITE_AUTH',
];

/** SQLite error code of a driver error, if any. */
export function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** Lock contention that a later attempt can get past. */
export function isBusy(e: unknown): boolean {
  const code = sqliteCode(e);
  return code !== undefined && busyCodes.has(code);
}

/** Turns driver errors that are about the database itself into StorageError; others pass through. */
export function mapSqliteError(e: unknown, path: string): unknown {
  if (e instanceof StorageError) return e;
  const code = sqliteCode(e);
  if (code === undefined) return e;
  if (code === 'SQLITE_TOOBIG')
    return new StorageError('PAYLOAD_TOO_LARGE', 'value too large for SQLite', { cause: e });
  if (unavailableCodes.some((c) => code.startsWith(c))) {
    return new StorageError('UNAVAILABLE', `SQLite database ${path} is unusable (${code})`, { cause: e });
  }
  if (busyCodes.has(code))
    return new StorageError('BUSY', `SQLite database ${path} stayed locked`, { cause: e });
  return e;
}
