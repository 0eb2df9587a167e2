import type { Certificate } from './certificate';
import { CryptoError } from './errors';
import { ekuOids } from './issue';
import { namesEqual } from './name';
import { OID } from './oids';
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
 * Whether `issuer`'s key made `cert`'s signature (no other check).
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
function buildPath(cert: Certificate, opts: ChainOptions, maxDepth: number): Certificate[] | undefined {
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
 * signature, CA, key usage, path length, validity and EKU checks. Throws `CryptoError`:
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
  const path = buildPath(cert, opts, opts.maxDepth ?? 8);
  if (!path) {
    throw new CryptoError('CHAIN_INVALID', `no trusted path for "${cert.subject.toString().slice(0, 120)}"`);
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
