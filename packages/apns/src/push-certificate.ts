import { createPublicKey, type KeyObject } from 'node:crypto';
import { type Certificate, importPkcs12, parseCertificates } from '@mdmkit/crypto';
import { ApnsError } from './errors';

/** Every MDM push topic starts with this; other topics belong to apps, not to MDM. */
export const MDM_TOPIC_PREFIX = 'com.apple.mgmt.';

/** What an administrator needs to know about an MDM push certificate. */
export interface PushCertificateInfo {
  /** The APNs topic (subject UID), `com.apple.mgmt.External.<uuid>`. */
  topic: string;
  /** Lowercase hex. */
  serialNumber: string;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** When to renew: `renewalWindowDays` before `notAfter`. */
  renewBy: Date;
  fingerprintSha256: string;
  certificate: Certificate;
  /** Further certificates that came with it (PEM bundle or PKCS#12), leaf excluded. */
  chain: Certificate[];
  /** The private key, when the input carried one (PKCS#12). */
  privateKey?: KeyObject;
}

/** Options of {@link parsePushCertificate}. */
export interface ParsePushCertificateOptions {
  /** Days before expiry from which renewal is due. Default 30. */
  renewalWindowDays?: number;
  /** Read the input as PKCS#12 (.p12) with this password; the result then carries the private key. */
  password?: string;
}

/**
 * Reads an MDM push certificate (PEM, possibly with its chain, DER, or PKCS#12 when `password` is
 * given) and checks that it is one: its subject UID must be an MDM topic.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { parsePushCertificate } from '@mdmkit/apns';
 *
 * const info = parsePushCertificate(readFileSync('MDM_push.pem', 'utf8'));
 * console.log(info.topic, info.notAfter.toISOString(), `renew by ${info.renewBy.toDateString()}`);
 * ```
 */
export function parsePushCertificate(
  input: string | Uint8Array,
  options: ParsePushCertificateOptions = {},
): PushCertificateInfo {
  if (options.password !== undefined) {
    if (typeof input === 'string')
      throw new ApnsError('INVALID_ARGUMENT', 'a PKCS#12 file must be given as bytes');
    let p12: ReturnType<typeof importPkcs12>;
    try {
      p12 = importPkcs12(input, options.password);
    } catch (e) {
      throw new ApnsError('INVALID_CERTIFICATE', 'the PKCS#12 file could not be opened', { cause: e });
    }
    if (!p12.certificate) throw new ApnsError('INVALID_CERTIFICATE', 'the PKCS#12 file holds no certificate');
    const info = describePushCertificate(p12.certificate, p12.chain, options);
    if (p12.privateKey) info.privateKey = p12.privateKey;
    return info;
  }
  let certs: Certificate[];
  try {
    certs = parseCertificates(input);
  } catch (e) {
    throw new ApnsError('INVALID_CERTIFICATE', 'not a readable X.509 certificate', { cause: e });
  }
  const [leaf, ...chain] = certs;
  if (!leaf) throw new ApnsError('INVALID_CERTIFICATE', 'no certificate found in the input');
  return describePushCertificate(leaf, chain, options);
}

/** Builds {@link PushCertificateInfo} from an already parsed certificate. */
export function describePushCertificate(
  leaf: Certificate,
  chain: Certificate[] = [],
  options: ParsePushCertificateOptions = {},
): PushCertificateInfo {
  const topic = leaf.subjectUid ?? leaf.subject.get('UID');
  if (!topic)
    throw new ApnsError('INVALID_TOPIC', 'the certificate has no subject UID, so it names no APNs topic');
  if (!topic.startsWith(MDM_TOPIC_PREFIX) || topic.length === MDM_TOPIC_PREFIX.length) {
    throw new ApnsError(
      'INVALID_TOPIC',
      `the certificate's topic ${topic} is not an MDM topic (${MDM_TOPIC_PREFIX}…)`,
    );
  }
  const windowDays = options.renewalWindowDays ?? 30;
  return {
    topic,
    serialNumber: leaf.serialNumber,
    subject: leaf.subject.toString(),
    issuer: leaf.issuer.toString(),
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    renewBy: new Date(leaf.notAfter.getTime() - windowDays * 86_400_000),
    fingerprintSha256: leaf.fingerprintSha256,
    certificate: leaf,
    chain,
  };
}

/** Throws `CERTIFICATE_EXPIRED` / `CERTIFICATE_NOT_YET_VALID` when the certificate cannot be used at `now`. */
export function assertCertificateCurrent(info: PushCertificateInfo, now: Date = new Date()): void {
  if (now.getTime() > info.notAfter.getTime()) {
    throw new ApnsError(
      'CERTIFICATE_EXPIRED',
      `the push certificate for ${info.topic} expired on ${info.notAfter.toISOString()}; renew it at Apple's push certificates portal`,
    );
  }
  if (now.getTime() < info.notBefore.getTime()) {
    throw new ApnsError(
      'CERTIFICATE_NOT_YET_VALID',
      `the push certificate for ${info.topic} is valid only from ${info.notBefore.toISOString()}`,
    );
  }
}

/** Whether `privateKey` is the key of `certificate`. */
export function certificateMatchesKey(certificate: Certificate, privateKey: KeyObject): boolean {
  try {
    const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    return Buffer.compare(spki, Buffer.from(certificate.spki)) === 0;
  } catch {
    return false;
  }
}
