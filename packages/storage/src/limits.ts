import { StorageError } from './errors';

/** Size limits every adapter enforces before touching the database. */
export interface StorageLimits {
  /** Largest command payload in bytes. Default 8 MiB. */
  maxCommandBytes: number;
  /** Largest stored report in bytes. Default 8 MiB. */
  maxResultBytes: number;
  /** Largest bootstrap token, raw check-in message or sealed key in bytes. Default 64 KiB. */
  maxBlobBytes: number;
  /** Longest id, UUID, topic, hash or other key string in characters. Default 255. */
  maxKeyLength: number;
  /**
   * Most unexpired SCEP sender nonces kept at once. Default 100 000. When the store is full a new nonce
   * is refused with `FULL` until old ones expire: it is never made room for by forgetting an unexpired
   * nonce, since that would let a flood reopen replays.
   */
  maxSenderNonces: number;
}

/** The limits adapters use unless configured otherwise. */
export const DEFAULT_STORAGE_LIMITS: Readonly<StorageLimits> = Object.freeze({
  maxCommandBytes: 8 * 1024 * 1024,
  maxResultBytes: 8 * 1024 * 1024,
  maxBlobBytes: 64 * 1024,
  maxKeyLength: 255,
  maxSenderNonces: 100_000,
});

/**
 * Merges partial limits over {@link DEFAULT_STORAGE_LIMITS}.
 *
 * @example
 * ```ts
 * const limits = resolveLimits({ maxCommandBytes: 1024 * 1024 });
 * ```
 */
export function resolveLimits(partial?: Partial<StorageLimits>): StorageLimits {
  return { ...DEFAULT_STORAGE_LIMITS, ...partial };
}

/**
 * Throws PAYLOAD_TOO_LARGE when `bytes` is longer than `max`; INVALID_INPUT when it is not bytes.
 * Adapters call it before touching the database.
 *
 * @example
 * ```ts
 * checkBytes('command payload', command.payload, limits.maxCommandBytes);
 * ```
 */
export function checkBytes(what: string, bytes: Uint8Array | undefined, max: number): void {
  if (bytes === undefined) return;
  if (!(bytes instanceof Uint8Array)) throw new StorageError('INVALID_INPUT', `${what} must be a Uint8Array`);
  if (bytes.byteLength > max) {
    throw new StorageError('PAYLOAD_TOO_LARGE', `${what} is ${bytes.byteLength} bytes; the limit is ${max}`);
  }
}

/** Throws INVALID_INPUT for an empty or non-string key, PAYLOAD_TOO_LARGE over `max` characters. */
export function checkKey(what: string, key: unknown, max: number): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new StorageError('INVALID_INPUT', `${what} must be a non-empty string`);
  }
  if (key.length > max) {
    throw new StorageError('PAYLOAD_TOO_LARGE', `${what} is ${key.length} characters; the limit is ${max}`);
  }
}
