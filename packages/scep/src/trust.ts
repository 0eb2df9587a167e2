import { type Certificate, type KeyUsageName, verifyCertificateChain } from '@mdmkit/crypto';

/** Extended key usages an RA certificate may carry: any, Microsoft's Certificate Request Agent, CMC RA. */
const RA_EKUS = new Set(['2.5.29.37.0', '1.3.6.1.4.1.311.20.2.1', '1.3.6.1.5.5.7.3.28']);

/**
 * Whether `cert` is the anchor itself or chains to it (through `pool`) at `at`, and may be used for
 * `usage`. A certificate without a keyUsage extension allows every use (RFC 5280 section 4.2.1.3).
 * The anchor is the one certificate the client pinned: it is trusted for any role it is asked to play.
 * With a `usage` (an RA role), a certificate whose extendedKeyUsage names no RA purpose is refused. A CA
 * below the anchor is trusted like the anchor: only the anchor's holder can have made one.
 */
export function vouchedFor(
  cert: Certificate,
  anchor: Certificate,
  pool: readonly Certificate[],
  usage?: KeyUsageName,
  at: Date = new Date(),
): boolean {
  if (cert.fingerprintSha256 === anchor.fingerprintSha256) return true;
  if (cert.isCA) usage = undefined;
  if (usage !== undefined && cert.keyUsage !== undefined && !cert.keyUsage.includes(usage)) return false;
  // Every enrolled client holds a certificate from the CA (clientAuth) and its key: one listed in a
  // GetCACert answer must not act as an RA. An RA has no extendedKeyUsage or an RA one.
  if (usage !== undefined && cert.extendedKeyUsage?.some((eku) => RA_EKUS.has(eku)) === false) return false;
  try {
    verifyCertificateChain(cert, { trusted: [anchor], intermediates: pool, at });
    return true;
  } catch {
    return false;
  }
}
