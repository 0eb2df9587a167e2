// The issued-certificate lookups for every SQL dialect: the checks and the row mapping; a dialect
// hands in its two SELECTs of {@link issuedColumns}.
import { StorageError } from '../errors';
import { checkKey, type StorageLimits } from '../limits';
import type { IssuedCertificateRecord } from '../scep';
import { type IssuedRow, toIssued } from './scep';

/** The columns an {@link IssuedRow} is read from. */
export const issuedColumns = 'serial, subject, not_before, not_after, requester, certificate_der, issued_at';

/**
 * The issued-certificate lookups on a dialect's queries: by serial, and by subject ordered by issue
 * time then serial.
 *
 * @example
 * ```ts
 * export const { getIssuedCertificate, findIssuedCertificatesBySubject } = issuedLookups<Ctx>(bySerial, bySubject);
 * ```
 */
export function issuedLookups<C extends { readonly limits: StorageLimits }>(
  bySerial: (ctx: C, serialHex: string) => Promise<IssuedRow | undefined>,
  bySubject: (ctx: C, subject: string) => Promise<IssuedRow[]>,
): {
  getIssuedCertificate(ctx: C, serialHex: string): Promise<IssuedCertificateRecord | undefined>;
  findIssuedCertificatesBySubject(ctx: C, subject: string): Promise<IssuedCertificateRecord[]>;
} {
  return {
    async getIssuedCertificate(ctx, serialHex) {
      checkKey('serial', serialHex, ctx.limits.maxKeyLength);
      const row = await bySerial(ctx, serialHex);
      return row ? toIssued(row) : undefined;
    },
    async findIssuedCertificatesBySubject(ctx, subject) {
      if (typeof subject !== 'string') throw new StorageError('INVALID_INPUT', 'subject must be a string');
      return (await bySubject(ctx, subject)).map(toIssued);
    },
  };
}
