/** A certificate issued by the SCEP CA. */
export interface IssuedCertificateRecord {
  /** Lowercase hex, no leading 00. */
  serial: string;
  /** Subject DN as text, e.g. `CN=device,O=Example`. */
  subject: string;
  notBefore: Date;
  notAfter: Date;
  /** Who asked for it (enrollment id, transaction id), when known. */
  requester?: string;
  certificateDer: Uint8Array;
  issuedAt: Date;
}

/**
 * What a SCEP server remembers: one-time challenges (by hash), seen sender nonces and issued certificates.
 *
 * @example
 * ```ts
 * await storage.putChallenge(sha256hex(challenge), new Date(Date.now() + 3600_000));
 * if (!(await storage.consumeChallenge(sha256hex(presented)))) throw new Error('bad challenge');
 * ```
 */
export interface ScepStore extends ScepChallengeStore, ScepNonceStore, IssuedCertificateStore {}

/**
 * One-time SCEP challenges, stored by hash.
 *
 * @example
 * ```ts
 * import type { ScepChallengeStore } from '@mdmkit/storage';
 * const once = (s: ScepChallengeStore, hash: string) => s.consumeChallenge(hash);
 * ```
 */
export interface ScepChallengeStore {
  putChallenge(challengeHash: string, expiresAt: Date): Promise<void>;
  /** True exactly once for a stored, unexpired challenge, even under concurrent calls; false otherwise. */
  consumeChallenge(challengeHash: string, now?: Date): Promise<boolean>;
}

/**
 * SCEP senderNonce replay detection.
 *
 * @example
 * ```ts
 * import type { ScepNonceStore } from '@mdmkit/storage';
 * const fresh = (s: ScepNonceStore, nonceHex: string) => s.recordSenderNonce(nonceHex, new Date(Date.now() + 600_000));
 * ```
 */
export interface ScepNonceStore {
  /** Records a senderNonce; false if it was already seen and has not expired (a replay). */
  recordSenderNonce(nonceHex: string, expiresAt: Date): Promise<boolean>;
}

/**
 * Certificates the SCEP CA issued.
 *
 * @example
 * ```ts
 * import type { IssuedCertificateStore } from '@mdmkit/storage';
 * const bySerial = (s: IssuedCertificateStore, serialHex: string) => s.getIssuedCertificate(serialHex);
 * ```
 */
export interface IssuedCertificateStore {
  putIssuedCertificate(rec: IssuedCertificateRecord): Promise<void>;
  getIssuedCertificate(serialHex: string): Promise<IssuedCertificateRecord | undefined>;
  findIssuedCertificatesBySubject(subject: string): Promise<IssuedCertificateRecord[]>;
}
