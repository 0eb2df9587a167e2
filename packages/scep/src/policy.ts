import { randomBytes } from 'node:crypto';
import type { Certificate, DistinguishedName, KeyUsageName, SubjectAltNames } from '@mdmkit/crypto';
import type { FailInfoName } from './constants';
import { ScepError } from './errors';
import { secretEquals, sha256Hex } from './secret';
import type { ScepStore } from './store';

/** What the handler knows about an enrollment request when it asks the policy. */
export interface ScepEnrollmentRequest {
  /** `PKCSReq` for a first enrollment, `RenewalReq` when signed with an existing certificate. */
  readonly messageType: 'PKCSReq' | 'RenewalReq';
  readonly transactionId: string;
  /** The CSR's subject. */
  readonly subject: DistinguishedName;
  /** The CSR's subject alternative names, when it asks for any. */
  readonly subjectAltNames?: SubjectAltNames;
  /** The CSR's public key. */
  readonly publicKey: import('node:crypto').KeyObject;
  /** The CSR's challengePassword attribute, when present. */
  readonly challenge?: string;
  /** The certificate that signed the pkiMessage (self-signed for PKCSReq, the old certificate for renewal). */
  readonly signer: Certificate;
  /**
   * For a RenewalReq: the signer certificate, verified to be issued by this CA and not expired. Absent when
   * the signer is not one of ours (the policy then treats the request like a PKCSReq).
   */
  readonly renewing?: Certificate;
  /** The raw CSR (DER). */
  readonly csrDer: Uint8Array;
}

/**
 * Decides whether a challenge password is acceptable. Any function of this shape can be used, so an
 * external system (an MDM enrollment database, a webhook) can validate challenges.
 *
 * @example
 * ```ts
 * import { createScepPolicy } from '@mdmkit/scep';
 * const policy = createScepPolicy({
 *   // Accept challenges that an enrollment service vouches for.
 *   challenge: async (challenge, request) =>
 *     challenge !== undefined && (await enrollments.checkChallenge(challenge, request.subject.toString())),
 * });
 * ```
 */
export type ChallengeVerifier = (
  challenge: string | undefined,
  request: ScepEnrollmentRequest,
) => boolean | Promise<boolean>;

/**
 * A challenge verifier that accepts one fixed password, compared in constant time.
 *
 * @example
 * ```ts
 * import { createScepPolicy, staticChallenge } from '@mdmkit/scep';
 * const policy = createScepPolicy({ challenge: staticChallenge(process.env.SCEP_CHALLENGE!) });
 * ```
 */
export function staticChallenge(secret: string): ChallengeVerifier {
  if (secret.length === 0) throw new ScepError('INVALID_OPTIONS', 'the static challenge must not be empty');
  return (challenge) => challenge !== undefined && secretEquals(challenge, secret);
}

/** One-time challenges: issued on demand, kept hashed in a {@link ScepStore}, each accepted once. */
export interface OneTimeChallenges {
  /** Creates a new challenge, valid once within `ttlSeconds` (default: the configured TTL). */
  issue(ttlSeconds?: number): Promise<string>;
  /** The verifier to pass as `challenge` to {@link createScepPolicy}. */
  readonly verify: ChallengeVerifier;
}

/**
 * One-time dynamic challenges. Only a SHA-256 of each challenge is stored; a challenge is consumed by the
 * first request that presents it, whatever the outcome of the rest of the request.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from '@mdmkit/storage';
 * import { createScepPolicy, oneTimeChallenges } from '@mdmkit/scep';
 * const challenges = oneTimeChallenges(new MemoryStorage(), { ttlSeconds: 3600 });
 * const policy = createScepPolicy({ challenge: challenges.verify });
 * // Hand this to one device, e.g. inside its enrollment profile:
 * const challenge = await challenges.issue();
 * ```
 */
export function oneTimeChallenges(
  store: Pick<ScepStore, 'putChallenge' | 'consumeChallenge'>,
  options: { ttlSeconds?: number; now?: () => Date } = {},
): OneTimeChallenges {
  const ttl = options.ttlSeconds ?? 3600;
  const now = options.now ?? (() => new Date());
  return {
    async issue(ttlSeconds = ttl) {
      // Base32 keeps the challenge inside PrintableString, which some clients use for challengePassword.
      const challenge = toBase32(randomBytes(20));
      await store.putChallenge(sha256Hex(challenge), new Date(now().getTime() + ttlSeconds * 1000));
      return challenge;
    },
    verify: async (challenge) =>
      challenge !== undefined &&
      challenge.length > 0 &&
      (await store.consumeChallenge(sha256Hex(challenge), now())),
  };
}

/**
 * Accepts when any of the verifiers accepts (tried in order, stopping at the first yes).
 *
 * @example
 * ```ts
 * import { anyChallenge, createScepPolicy, oneTimeChallenges, staticChallenge } from '@mdmkit/scep';
 * // Devices enrolled by profile use one-time challenges; a lab bench keeps a static one.
 * const challenges = oneTimeChallenges(storage);
 * const policy = createScepPolicy({ challenge: anyChallenge(challenges.verify, staticChallenge(labSecret)) });
 * ```
 */
export function anyChallenge(...verifiers: ChallengeVerifier[]): ChallengeVerifier {
  return async (challenge, request) => {
    for (const v of verifiers) if (await v(challenge, request)) return true;
    return false;
  };
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function toBase32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/** An allowed key type and its sizes (RSA modulus bits) or curves. */
export type KeyRule =
  | { type: 'rsa'; sizes: number[] }
  | { type: 'ec'; curves: ('P-256' | 'P-384' | 'P-521')[] };

/** What to put into an issued certificate. */
export interface IssuanceTemplate {
  /** Validity in days from now (notBefore is backdated a few minutes for clock skew). */
  validityDays: number;
  keyUsage: KeyUsageName[];
  /** Names (`clientAuth`, …) or OIDs. */
  extendedKeyUsage: string[];
  /** Subject for the certificate; defaults to the CSR's subject. */
  subject?: import('@mdmkit/crypto').NameInput;
  /** SANs for the certificate; defaults to the CSR's SANs. */
  subjectAltNames?: SubjectAltNames;
}

/** The outcome of a policy decision. */
export type PolicyDecision =
  | { action: 'issue'; template: IssuanceTemplate }
  | { action: 'reject'; failInfo: FailInfoName; reason: string }
  | { action: 'pending' };

/** The server's policy: turns an enrollment request into a decision. */
export interface ScepPolicy {
  decide(request: ScepEnrollmentRequest): Promise<PolicyDecision>;
  /** Asked again for a request left PENDING when the client polls (CertPoll). Default: stays pending. */
  poll?(request: ScepEnrollmentRequest): Promise<PolicyDecision>;
}

/** Options of {@link createScepPolicy}. */
export interface ScepPolicyOptions {
  /**
   * Challenge verification for PKCSReq (and for RenewalReq when `renewalRequiresChallenge`). Without one,
   * every request that needs a challenge is rejected: there is no open enrollment by accident.
   */
  challenge?: ChallengeVerifier;
  /**
   * Whether a renewal (a request signed by a valid certificate this CA issued, for the same subject) must
   * carry a valid challenge too. Default false.
   */
  renewalRequiresChallenge?: boolean;
  /** Allowed keys. Default: RSA 2048, 3072, 4096. */
  keys?: KeyRule[];
  /**
   * Subject rule: return a reason string to refuse, or nothing to accept. Default: the subject must not be empty.
   *
   * @example
   * ```ts
   * createScepPolicy({
   *   challenge: staticChallenge('secret'),
   *   subject: (dn) => (dn.get('O') === 'Example Inc' ? undefined : 'organization must be Example Inc'),
   * });
   * ```
   */
  subject?: (subject: DistinguishedName, request: ScepEnrollmentRequest) => string | undefined;
  /**
   * SAN rule: return a reason string to refuse. Default: any SANs the CSR asks for are refused except
   * none at all, because a device should not pick its own names unless the deployment allows it.
   *
   * @example
   * ```ts
   * createScepPolicy({
   *   challenge: staticChallenge('secret'),
   *   subjectAltNames: (sans) =>
   *     (sans.dns ?? []).every((n) => n.endsWith('.devices.example.com')) && !sans.ip ? undefined : 'bad SAN',
   * });
   * ```
   */
  subjectAltNames?: (sans: SubjectAltNames, request: ScepEnrollmentRequest) => string | undefined;
  /** Validity of issued certificates in days. Default 365. */
  validityDays?: number;
  /** KeyUsage of issued certificates. Default digitalSignature, keyEncipherment. */
  keyUsage?: KeyUsageName[];
  /** Extended key usages of issued certificates. Default clientAuth. */
  extendedKeyUsage?: string[];
  /**
   * Final hook, after every other check passed: adjust the template, reject, or leave the request
   * PENDING (for manual approval; the client then polls and {@link ScepPolicyOptions.poll} is asked).
   *
   * @example
   * ```ts
   * const approved = new Set<string>();
   * createScepPolicy({
   *   challenge: staticChallenge('secret'),
   *   approve: async (req, template) =>
   *     approved.has(req.transactionId) ? { action: 'issue', template } : { action: 'pending' },
   *   poll: async (req, template) =>
   *     approved.has(req.transactionId) ? { action: 'issue', template } : { action: 'pending' },
   * });
   * ```
   */
  approve?: (request: ScepEnrollmentRequest, template: IssuanceTemplate) => Promise<PolicyDecision>;
  /** Decision for a pending request when the client polls. Default: stays pending. */
  poll?: (request: ScepEnrollmentRequest, template: IssuanceTemplate) => Promise<PolicyDecision>;
}

/** The default allowed keys. */
export const DEFAULT_KEY_RULES: readonly KeyRule[] = Object.freeze([
  { type: 'rsa', sizes: [2048, 3072, 4096] },
]);

/**
 * Builds the standard policy: challenge check, key check, subject and SAN rules, then the issuance template.
 *
 * @example
 * ```ts
 * import { createScepPolicy, staticChallenge } from '@mdmkit/scep';
 * const policy = createScepPolicy({
 *   challenge: staticChallenge('secret'),
 *   keys: [{ type: 'rsa', sizes: [2048, 4096] }, { type: 'ec', curves: ['P-256'] }],
 *   validityDays: 90,
 * });
 * ```
 */
export function createScepPolicy(options: ScepPolicyOptions = {}): ScepPolicy {
  const keys = options.keys ?? DEFAULT_KEY_RULES;
  const validityDays = options.validityDays ?? 365;
  if (!Number.isFinite(validityDays) || validityDays <= 0 || validityDays > 36500) {
    throw new ScepError('INVALID_OPTIONS', 'validityDays must be between 1 and 36500');
  }
  const template = (): IssuanceTemplate => ({
    validityDays,
    keyUsage: options.keyUsage ?? ['digitalSignature', 'keyEncipherment'],
    extendedKeyUsage: options.extendedKeyUsage ?? ['clientAuth'],
  });
  const reject = (failInfo: FailInfoName, reason: string): PolicyDecision => ({
    action: 'reject',
    failInfo,
    reason,
  });

  const check = async (req: ScepEnrollmentRequest): Promise<PolicyDecision | undefined> => {
    // A renewal vouches only for the identity it renews: asking for another subject needs the challenge.
    const renewsSameSubject =
      req.renewing !== undefined && req.renewing.subject.toString() === req.subject.toString();
    const needsChallenge = !(renewsSameSubject && !options.renewalRequiresChallenge);
    if (needsChallenge) {
      const ok = options.challenge ? await options.challenge(req.challenge, req) : false;
      if (!ok) return reject('badRequest', 'challenge password rejected');
    }
    const keyReason = checkKey(req.publicKey, keys);
    if (keyReason) return reject('badRequest', keyReason);
    const subjectReason = options.subject
      ? options.subject(req.subject, req)
      : req.subject.attributes.length === 0
        ? 'empty subject'
        : undefined;
    if (subjectReason) return reject('badRequest', subjectReason);
    const sans = req.subjectAltNames;
    const hasSans = sans !== undefined && Object.values(sans).some((v) => Array.isArray(v) && v.length > 0);
    if (hasSans) {
      const sanReason = options.subjectAltNames
        ? options.subjectAltNames(sans, req)
        : 'subject alternative names are not allowed';
      if (sanReason) return reject('badRequest', sanReason);
    }
    return undefined;
  };

  return {
    async decide(req) {
      const refused = await check(req);
      if (refused) return refused;
      const t = template();
      return options.approve ? options.approve(req, t) : { action: 'issue', template: t };
    },
    async poll(req) {
      return options.poll ? options.poll(req, template()) : { action: 'pending' };
    },
  };
}

/** Returns a reason when the key is not allowed. */
export function checkKey(
  key: import('node:crypto').KeyObject,
  rules: readonly KeyRule[],
): string | undefined {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  for (const rule of rules) {
    if (rule.type === 'rsa' && type === 'rsa' && rule.sizes.includes(details.modulusLength ?? 0))
      return undefined;
    if (rule.type === 'ec' && type === 'ec') {
      const curve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[details.namedCurve ?? ''];
      if (curve && (rule.curves as string[]).includes(curve)) return undefined;
    }
  }
  const what =
    type === 'rsa'
      ? `RSA ${details.modulusLength ?? '?'}`
      : type === 'ec'
        ? `EC ${details.namedCurve}`
        : type;
  return `key ${what} is not allowed`;
}
