// Push certificate rows and input checks, the same in every dialect.
import { StorageError } from '../errors';
import { checkBytes, checkKey, type StorageLimits } from '../limits';
import type { StoredPushCert } from '../push-cert';
import { bytes } from './values';

/** One `push_certificates` row. */
export interface PushCertRow {
  topic: string;
  certificate_pem: string;
  sealed_key: Uint8Array;
  version: string | number;
  updated_at: Date;
}

/**
 * A stored push certificate from its row.
 *
 * @example
 * ```ts
 * const cert = rows[0] ? toPushCert(rows[0]) : undefined;
 * ```
 */
export function toPushCert(r: PushCertRow): StoredPushCert {
  return {
    topic: r.topic,
    certificatePem: r.certificate_pem,
    sealedKey: bytes(r.sealed_key),
    version: String(r.version),
    updatedAt: r.updated_at,
  };
}

/**
 * Validates a `putPushCert` record (same codes in every adapter).
 *
 * @example
 * ```ts
 * checkPushCert(ctx.limits, { topic, certificatePem, sealedKey });
 * ```
 */
export function checkPushCert(
  limits: StorageLimits,
  rec: { topic: string; certificatePem: string; sealedKey: Uint8Array },
): void {
  if (typeof rec !== 'object' || rec === null)
    throw new StorageError('INVALID_INPUT', 'record must be an object');
  checkKey('topic', rec.topic, limits.maxKeyLength);
  if (typeof rec.certificatePem !== 'string' || rec.certificatePem.length === 0) {
    throw new StorageError('INVALID_INPUT', 'certificatePem must be a non-empty string');
  }
  if (rec.certificatePem.length > limits.maxBlobBytes) {
    throw new StorageError('PAYLOAD_TOO_LARGE', `certificatePem is longer than ${limits.maxBlobBytes}`);
  }
  if (!(rec.sealedKey instanceof Uint8Array))
    throw new StorageError('INVALID_INPUT', 'sealedKey must be bytes');
  checkBytes('sealedKey', rec.sealedKey, limits.maxBlobBytes);
}
