import { type Certificate, type KeyUsageName, verifyCertificateChain } from '@mdmkit/crypto';

/**
 * Whether `cert` is the anchor itself or chains to it (through `pool`) at `at`, and may be used for
 * `usage`. A certificate without a keyUsage extension allows every use (RFC 5280 section 4.2.1.3).
 * The anchor is the one certificate the client pinned: it is trusted for any role it is asked to play.
 */
export function vouchedFor(
  cert: Certificate,
  anchor: Certificate,
  pool: readonly Certificate[],
  usage?: KeyUsageName,
  at: Date = new Date(),
): boolean {
  if (cert.fingerprintSha256 === anchor.fingerprintSha256) return true;
  if (usage !== undefined && cert.keyUsage !== undefined && !cert.keyUsage.includes(usage)) return false;
  try {
    verifyCertificateChain(cert, { trusted: [anchor], intermediates: pool, at });
    return true;
  } catch {
    return false;
  }
}
