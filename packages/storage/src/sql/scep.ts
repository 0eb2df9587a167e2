// Issued-certificate rows and input checks, the same in every dialect.
import { StorageError } from '../errors';
import { checkBytes, checkKey, type StorageLimits } from '../limits';
import type { IssuedCertificateRecord } from '../scep';
import { bytes, date, optionalText } from './values';

/** One `scep_issued_certificates` row. */
export interface IssuedRow {
  serial: string;
  subject: string;
  not_before: Date;
  not_after: Date;
  requester: string | null;
  certificate_der: Uint8Array;
  issued_at: Date;
}

/**
 * An issued-certificate record from its row.
 *
 * @example
 * ```ts
 * const records = rows.map(toIssued);
 * ```
 */
export function toIssued(r: IssuedRow): IssuedCertificateRecord {
  const rec: IssuedCertificateRecord = {
    serial: r.serial,
    subject: r.subject,
    notBefore: r.not_before,
    notAfter: r.not_after,
    certificateDer: bytes(r.certificate_der),
    issuedAt: r.issued_at,
  };
  if (r.requester !== null) rec.requester = r.requester;
  return rec;
}

/**
 * Validates an issued-certificate record and returns its column values in table order
 * (serial, subject, not_before, not_after, requester, certificate_der, issued_at).
 *
 * @example
 * ```ts
 * const [serial, subject, notBefore, notAfter, requester, der, issuedAt] = issuedValues(ctx.limits, rec);
 * ```
 */
export function issuedValues(
  limits: StorageLimits,
  rec: IssuedCertificateRecord,
): [string, string, Date, Date, string | null, Uint8Array, Date] {
  if (typeof rec !== 'object' || rec === null)
    throw new StorageError('INVALID_INPUT', 'record must be an object');
  checkKey('serial', rec.serial, limits.maxKeyLength);
  if (typeof rec.subject !== 'string') throw new StorageError('INVALID_INPUT', 'subject must be a string');
  optionalText({ limits }, 'subject', rec.subject, 4096);
  if (!(rec.certificateDer instanceof Uint8Array)) {
    throw new StorageError('INVALID_INPUT', 'certificateDer must be a Uint8Array');
  }
  checkBytes('certificateDer', rec.certificateDer, limits.maxBlobBytes);
  return [
    rec.serial,
    rec.subject,
    date('notBefore', rec.notBefore),
    date('notAfter', rec.notAfter),
    optionalText({ limits }, 'requester', rec.requester),
    rec.certificateDer,
    date('issuedAt', rec.issuedAt),
  ];
}

/**
 * The CONFLICT every adapter throws for a serial already recorded.
 *
 * @example
 * ```ts
 * if (rowCount === 0) throw serialTaken(rec.serial);
 * ```
 */
export function serialTaken(serial: string): StorageError {
  return new StorageError('CONFLICT', `a certificate with serial ${serial} is already recorded`);
}
