import type { Payload } from './define';
import { ProfileError } from './errors';
import { type MdmPayload, mdmPayload } from './generated/payloads/com-apple-mdm';
import { type SecurityAcmePayload, securityAcmePayload } from './generated/payloads/com-apple-security-acme';
import { securityRootPayload } from './generated/payloads/com-apple-security-root';
import { type SecurityScepPayload, securityScepPayload } from './generated/payloads/com-apple-security-scep';
import { newUuid, stableUuid } from './identifiers';
import { buildProfile, type ProfileDict } from './profile';

/** A certificate subject: `[['O', 'Example'], ['CN', 'device']]`, one attribute per RDN, in order. */
export type SubjectInput = readonly (readonly [string, string])[];

/** The device identity from a SCEP server (com.apple.security.scep). */
export interface EnrollmentScep {
  url: string;
  challenge?: string;
  /** Default 2048. */
  keySize?: 1024 | 2048 | 4096;
  subject: SubjectInput;
  /** CA name for servers that host several CAs. */
  name?: string;
  /** SHA-256 (or SHA-1) of the CA certificate, checked by the device. */
  caFingerprint?: Uint8Array;
}

/** The device identity from an ACME server (com.apple.security.acme; iOS 16+, macOS 13.1+). */
export interface EnrollmentAcme {
  directoryUrl: string;
  clientIdentifier: string;
  /**
   * Default 384 for ECSECPrimeRandom, 2048 for RSA. RSA: a multiple of 8 in 1024…4096; ECSECPrimeRandom:
   * 192, 256, 384 or 521, and 256 or 384 when hardware-bound.
   */
  keySize?: number;
  /** Default `ECSECPrimeRandom`. */
  keyType?: 'RSA' | 'ECSECPrimeRandom';
  /**
   * Keep the key in the Secure Enclave (ECSECPrimeRandom only). Default true for ECSECPrimeRandom,
   * false for RSA.
   */
  hardwareBound?: boolean;
  /** Ask the device for an attestation of the key (needs `hardwareBound`). Default false. */
  attest?: boolean;
  subject: SubjectInput;
}

/** Options of {@link buildEnrollmentProfile}. */
export interface EnrollmentProfileOptions {
  /** The MDM server URL (https) devices send commands' results to. */
  serverUrl: string;
  /** Separate check-in URL; default: check-ins go to `serverUrl`. */
  checkInUrl?: string;
  /** The APNs topic of the push certificate (`com.apple.mgmt.External.…`). */
  topic: string;
  /** Exactly one of `scep` and `acme`. */
  scep?: EnrollmentScep;
  acme?: EnrollmentAcme;
  /** AccessRights bit mask, 1 … 8191. Default 8191 (all rights). */
  accessRights?: number;
  /** Devices sign each message (Mdm-Signature header). Default true. */
  signMessage?: boolean;
  /** Devices send CheckOut when the profile is removed. Default true. */
  checkOutWhenRemoved?: boolean;
  /** Default `['com.apple.mdm.per-user-connections', 'com.apple.mdm.bootstraptoken']`. */
  serverCapabilities?: MdmPayload['ServerCapabilities'];
  /** Use the APNs sandbox. Default false. */
  useDevelopmentApns?: boolean;
  /** DER CA certificates to install as trusted (com.apple.security.root), e.g. a private server CA. */
  anchorCertificates?: readonly Uint8Array[];
  /** Profile PayloadIdentifier; default derived from the server host, e.g. `com.example.mdm.enrollment`. */
  identifier?: string;
  /** Default `MDM Enrollment`. */
  displayName?: string;
  organization?: string;
  /** Same input, same UUIDs (see `buildProfile`). Default false. */
  stableIdentifiers?: boolean;
}

function fail(message: string, keyPath: string[]): never {
  throw new ProfileError('INVALID_ENROLLMENT', `enrollment profile: ${message}`, { keyPath });
}

/** Parses a URL option; `protocols` lists the schemes allowed (SCEP often runs over plain http). */
function urlOption(value: unknown, keyPath: string[], protocols: readonly string[] = ['https:']): URL {
  const name = keyPath.join('.');
  if (typeof value !== 'string') fail(`${name} must be a string`, keyPath);
  let url: URL;
  try {
    url = new URL(value);
  } catch (e) {
    throw new ProfileError('INVALID_ENROLLMENT', `enrollment profile: ${name} is not a URL`, {
      keyPath,
      cause: e,
    });
  }
  if (!protocols.includes(url.protocol)) fail(`${name} must be an ${protocols.join(' or ')} URL`, keyPath);
  return url;
}

function subjectOf(subject: SubjectInput, key: string): string[][][] {
  if (!Array.isArray(subject) || subject.length === 0)
    fail('subject needs at least one attribute', [key, 'subject']);
  return subject.map((pair, i) => {
    if (
      !Array.isArray(pair) ||
      pair.length !== 2 ||
      typeof pair[0] !== 'string' ||
      typeof pair[1] !== 'string'
    ) {
      fail('each subject attribute is [type, value]', [key, 'subject', String(i)]);
    }
    return [[pair[0], pair[1]]];
  });
}

/**
 * Builds the enrollment profile a device installs to enroll: its identity (SCEP or ACME) and the
 * com.apple.mdm payload that points at the server, with optional trusted CA certificates. The MDM
 * payload's IdentityCertificateUUID is the identity payload's PayloadUUID. Sign the result with
 * `signProfile` before serving it.
 *
 * @throws ProfileError `INVALID_ENROLLMENT` for missing or contradictory options (both or neither of
 *   scep/acme, a non-https URL, a topic that is not an MDM push topic, access rights out of range);
 *   `INVALID_PAYLOAD` when a value does not fit the payload's schema.
 * @example
 * ```ts
 * const profile = buildEnrollmentProfile({
 *   serverUrl: 'https://mdm.example.com/mdm',
 *   checkInUrl: 'https://mdm.example.com/checkin',
 *   topic: 'com.apple.mgmt.External.2f1ac3b0-5e0f-4a4c-9f5e-0d1c2b3a4f5e',
 *   scep: {
 *     url: 'https://mdm.example.com/scep',
 *     challenge: oneTimeChallenge,
 *     keySize: 2048,
 *     subject: [['O', 'Example'], ['CN', 'MDM Identity']],
 *   },
 * });
 * const signed = await signProfile(profile, { certificate, privateKey, chain });
 * ```
 */
export function buildEnrollmentProfile(options: EnrollmentProfileOptions): ProfileDict {
  const server = urlOption(options.serverUrl, ['serverUrl']);
  if (options.checkInUrl !== undefined) urlOption(options.checkInUrl, ['checkInUrl']);
  if (typeof options.topic !== 'string' || !/^com\.apple\.mgmt\.\S+$/.test(options.topic)) {
    fail('topic must be the push certificate topic (com.apple.mgmt.…)', ['topic']);
  }
  if ((options.scep === undefined) === (options.acme === undefined))
    fail('give exactly one of scep and acme', ['scep']);
  const rights = options.accessRights ?? 8191;
  if (!Number.isInteger(rights) || rights < 1 || rights > 8191)
    fail('accessRights must be an integer 1…8191', ['accessRights']);

  const identifier =
    options.identifier ?? `${server.hostname.split('.').reverse().join('.')}.enrollment`.replace(/^\.+/, '');
  const stable = options.stableIdentifiers === true;
  const uuidFor = (pid: string) => (stable ? stableUuid(`${identifier}/${pid}`) : newUuid());

  const payloads: Payload[] = [];
  for (const [i, der] of (options.anchorCertificates ?? []).entries()) {
    const pid = `${identifier}.anchor.${i + 1}`;
    payloads.push(securityRootPayload({ PayloadContent: der }, { identifier: pid, uuid: uuidFor(pid) }));
  }
  const identityId = `${identifier}.identity`;
  const identityUuid = uuidFor(identityId);
  if (options.scep) {
    const s = options.scep;
    urlOption(s.url, ['scep', 'url'], ['https:', 'http:']);
    const content: SecurityScepPayload['PayloadContent'] = {
      URL: s.url,
      Keysize: s.keySize ?? 2048,
      'Key Type': 'RSA',
      // Signing and encryption: what the MDM identity is used for.
      'Key Usage': 5,
      Subject: subjectOf(s.subject, 'scep'),
    };
    if (s.challenge !== undefined) content.Challenge = s.challenge;
    if (s.name !== undefined) content.Name = s.name;
    if (s.caFingerprint !== undefined) content.CAFingerprint = s.caFingerprint;
    payloads.push(
      securityScepPayload({ PayloadContent: content }, { identifier: identityId, uuid: identityUuid }),
    );
  } else {
    const a = options.acme!;
    urlOption(a.directoryUrl, ['acme', 'directoryUrl']);
    const keyType = a.keyType ?? 'ECSECPrimeRandom';
    const rsa = keyType === 'RSA';
    const keySize = a.keySize ?? (rsa ? 2048 : 384);
    const hardwareBound = a.hardwareBound ?? !rsa;
    // The combinations the payload allows; a device refuses the profile for any other.
    if (rsa && hardwareBound) fail('an RSA key cannot be hardware-bound', ['acme', 'hardwareBound']);
    const sizeOk = rsa
      ? Number.isInteger(keySize) && keySize % 8 === 0 && keySize >= 1024 && keySize <= 4096
      : (hardwareBound ? [256, 384] : [192, 256, 384, 521]).includes(keySize);
    if (!sizeOk)
      fail(`keySize does not fit a${hardwareBound ? ' hardware-bound' : 'n'} ${keyType} key`, [
        'acme',
        'keySize',
      ]);
    if (a.attest && !hardwareBound) fail('attest needs a hardware-bound key', ['acme', 'attest']);
    const content: SecurityAcmePayload = {
      DirectoryURL: a.directoryUrl,
      ClientIdentifier: a.clientIdentifier,
      KeyType: keyType,
      KeySize: keySize,
      HardwareBound: hardwareBound,
      Subject: subjectOf(a.subject, 'acme'),
    };
    if (a.attest !== undefined) content.Attest = a.attest;
    payloads.push(securityAcmePayload(content, { identifier: identityId, uuid: identityUuid }));
  }
  const mdm: MdmPayload = {
    IdentityCertificateUUID: identityUuid,
    Topic: options.topic,
    ServerURL: options.serverUrl,
    SignMessage: options.signMessage ?? true,
    AccessRights: rights,
    CheckOutWhenRemoved: options.checkOutWhenRemoved ?? true,
    ServerCapabilities: options.serverCapabilities ?? [
      'com.apple.mdm.per-user-connections',
      'com.apple.mdm.bootstraptoken',
    ],
  };
  if (options.checkInUrl !== undefined) mdm.CheckInURL = options.checkInUrl;
  if (options.useDevelopmentApns !== undefined) mdm.UseDevelopmentAPNS = options.useDevelopmentApns;
  const mdmId = `${identifier}.mdm`;
  payloads.push(mdmPayload(mdm, { identifier: mdmId, uuid: uuidFor(mdmId) }));
  return buildProfile({
    identifier,
    displayName: options.displayName ?? 'MDM Enrollment',
    ...(options.organization !== undefined ? { organization: options.organization } : {}),
    stableIdentifiers: stable,
    payloads,
  });
}
