import type { Certificate } from './certificate';
import { CryptoError } from './errors';
import { ekuOids } from './issue';
import { namesEqual } from './name';
import { OID, SIGNATURE_ALGORITHMS } from './oids';
import { verifyData } from './signer';

/** Options of {@link verifyCertificateChain}. */
export interface ChainOptions {
  /** Trust anchors. A path must end at one of these. */
  trusted: readonly Certificate[];
  /** Untrusted certificates that may complete the path (e.g. from a CMS message). */
  intermediates?: readonly Certificate[];
  /** Validation time; default now. */
  at?: Date;
  /** An EKU the leaf must allow (name such as `clientAuth`, or OID). A leaf without EKU allows any. */
  requiredEku?: string;
  /** Maximum path length including leaf and anchor; default 8. */
  maxDepth?: number;
  /**
   * Accept certificates on the path that are signed with SHA-1 (sha1WithRSAEncryption,
   * ecdsa-with-SHA1). Default false: SHA-1 collisions are practical, so a SHA-1 signature on an
   * issued certificate proves nothing. A trust anchor's own self-signature is never checked, so a
   * SHA-1 self-signed root such as Apple's Root CA works without this.
   */
  allowSha1Signatures?: boolean;
}

const KNOWN_CRITICAL = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
]);

/**
 * Whether `issuer`'s key made `cert`'s signature (no other check: a SHA-1 signature that verifies
 * is true here; {@link verifyCertificateChain} is what refuses it).
 *
 * @example
 * ```ts
 * verifyCertificateSignature(deviceCert, caCert); // true
 * ```
 */
export function verifyCertificateSignature(cert: Certificate, issuer: Certificate): boolean {
  try {
    return verifyData(issuer.publicKey, cert.signatureAlgorithm, cert.tbsDer, cert.signatureValue);
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'UNSUPPORTED_ALGORITHM') return false;
    throw e;
  }
}

/** Signature algorithms too weak to trust by default; weaker ones (MD5, MD2) are not verified at all. */
function isSha1Signature(algorithmOid: string): boolean {
  return SIGNATURE_ALGORITHMS[algorithmOid]?.hash === 'sha1';
}

function couldIssue(child: Certificate, parent: Certificate): boolean {
  if (!namesEqual(child.issuer, parent.subject)) return false;
  if (child.authorityKeyIdentifier && parent.subjectKeyIdentifier) {
    return child.authorityKeyIdentifier === parent.subjectKeyIdentifier;
  }
  return true;
}

function isSame(a: Certificate, b: Certificate): boolean {
  return a.fingerprintSha256 === b.fingerprintSha256;
}

/**
 * Finds a path from `cert` to a trusted certificate and returns it (leaf first, anchor last), or
 * undefined. Signatures, CA flags, key usage and path lengths are checked while searching; time is not.
 */
function buildPath(
  cert: Certificate,
  opts: ChainOptions,
  maxDepth: number,
  seen: { sha1: boolean },
): Certificate[] | undefined {
  const pool = [
    ...opts.trusted.map((c) => ({ c, trusted: true })),
    ...(opts.intermediates ?? []).map((c) => ({ c, trusted: false })),
  ];
  const walk = (path: Certificate[]): Certificate[] | undefined => {
    const cur = path[path.length - 1]!;
    if (opts.trusted.some((t) => isSame(t, cur))) return path;
    if (path.length >= maxDepth) return undefined;
    for (const { c, trusted } of pool) {
      if (path.some((p) => isSame(p, c))) continue;
      if (!couldIssue(cur, c)) continue;
      if (!c.isCA) continue;
      if (c.keyUsage && !c.keyUsage.includes('keyCertSign')) continue;
      // pathLength counts the non-self-issued intermediates below this CA (all but the leaf).
      if (c.pathLength !== undefined && path.length - 1 > c.pathLength) continue;
      if (!verifyCertificateSignature(cur, c)) continue;
      // Checked after the signature, so that the error can say the path failed only for SHA-1.
      if (isSha1Signature(cur.signatureAlgorithm) && !opts.allowSha1Signatures) {
        seen.sha1 = true;
        continue;
      }
      const next = [...path, c];
      if (trusted) return next;
      const found = walk(next);
      if (found) return found;
    }
    return undefined;
  };
  return walk([cert]);
}

/**
 * Verifies that `cert` chains to one of `trusted` (through `intermediates` as needed) at `at`, with
 * signature, CA, key usage, path length, validity and EKU checks. Certificates signed with SHA-1
 * are refused unless `allowSha1Signatures` is set (an anchor's own self-signature is not checked).
 * Throws `CryptoError`:
 * `CHAIN_INVALID` (no valid path, EKU not allowed, unknown critical extension),
 * `CERTIFICATE_EXPIRED` or `CERTIFICATE_NOT_YET_VALID` (any certificate on the path). Returns the path.
 *
 * @example
 * ```ts
 * verifyCertificateChain(deviceCert, { trusted: [scepCa], requiredEku: 'clientAuth' });
 * ```
 */
export function verifyCertificateChain(cert: Certificate, opts: ChainOptions): Certificate[] {
  const at = opts.at ?? new Date();
  const seen = { sha1: false };
  const path = buildPath(cert, opts, opts.maxDepth ?? 8, seen);
  if (!path) {
    const why = seen.sha1 ? ' (a certificate on it is signed with SHA-1; see allowSha1Signatures)' : '';
    throw new CryptoError(
      'CHAIN_INVALID',
      `no trusted path for "${cert.subject.toString().slice(0, 120)}"${why}`,
    );
  }
  for (const c of path) {
    for (const x of c.extensions) {
      if (x.critical && !KNOWN_CRITICAL.has(x.oid)) {
        throw new CryptoError('CHAIN_INVALID', `unsupported critical extension ${x.oid}`);
      }
    }
    if (at.getTime() > c.notAfter.getTime()) {
      throw new CryptoError(
        'CERTIFICATE_EXPIRED',
        `certificate "${c.subject.toString().slice(0, 120)}" expired`,
      );
    }
    if (at.getTime() < c.notBefore.getTime()) {
      throw new CryptoError(
        'CERTIFICATE_NOT_YET_VALID',
        `certificate "${c.subject.toString().slice(0, 120)}" is not yet valid`,
      );
    }
  }
  if (opts.requiredEku && cert.extendedKeyUsage) {
    const [want] = ekuOids([opts.requiredEku]);
    if (!cert.extendedKeyUsage.includes(want!) && !cert.extendedKeyUsage.includes(OID.anyExtendedKeyUsage)) {
      throw new CryptoError(
        'CHAIN_INVALID',
        `certificate does not allow extended key usage ${opts.requiredEku}`,
      );
    }
  }
  return path;
}
