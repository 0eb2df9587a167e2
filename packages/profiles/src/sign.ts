import type { KeyObject } from 'node:crypto';
import {
  type Certificate,
  CryptoError,
  type HashName,
  type Signer,
  signCms,
  unwrapSmime,
  verifyCertificateChain,
  verifyCms,
} from '@mdmkit/crypto';
import type { PlistLimits } from '@mdmkit/plist';
import { encodeProfile } from './encode';
import { ProfileError } from './errors';
import { defaultProfileLimits, type ParsedProfile, parseProfile } from './parse';
import type { ProfileDict } from './profile';

/** Options of {@link signProfile}. */
export interface SignProfileOptions {
  /** The signing certificate (its key signs; it goes into the message). */
  certificate: Certificate;
  privateKey: KeyObject | Signer;
  /** Intermediate certificates up to (not necessarily including) the root, so devices can build the path. */
  chain?: readonly Certificate[];
  /** Default sha256. */
  hash?: HashName;
}

/**
 * Signs a profile as CMS SignedData with the content inside (what `openssl smime -sign -nodetach`
 * makes), carrying the signer's certificate and `chain`. Returns DER, served as
 * `application/x-apple-aspen-config`.
 *
 * @example
 * ```ts
 * const signed = await signProfile(buildProfile({ identifier: 'com.example.wifi', payloads }), {
 *   certificate: signerCert,
 *   privateKey: signerKey,
 *   chain: [intermediateCert],
 * });
 * ```
 */
export async function signProfile(
  profile: ProfileDict | Uint8Array,
  options: SignProfileOptions,
): Promise<Uint8Array> {
  const content = profile instanceof Uint8Array ? profile : encodeProfile(profile);
  return signCms({
    content,
    certificate: options.certificate,
    privateKey: options.privateKey,
    certificates: [...(options.chain ?? [])],
    ...(options.hash ? { hash: options.hash } : {}),
  });
}

/** Options of {@link verifySignedProfile} and {@link readSignedProfile}. */
export interface VerifyProfileOptions {
  /**
   * Trust anchors: the signer must chain to one of them (through certificates in the message). Without
   * them only the signature is checked, and `trusted` in the result is false.
   */
  trusted?: readonly Certificate[];
  /** Validation time of the chain; default now. */
  at?: Date;
  /** Largest accepted input; default 16 MiB. */
  maxBytes?: number;
}

/** A verified signed profile. */
export interface VerifiedProfile {
  /** The profile's property-list bytes. */
  content: Uint8Array;
  signer: Certificate;
  /** Every certificate the message carries. */
  certificates: Certificate[];
  /** The signer chains to one of `options.trusted`. */
  trusted: boolean;
  signingTime?: Date;
}

/**
 * Whether `bytes` look like a property list (XML or binary) rather than CMS.
 *
 * @example
 * ```ts
 * const parsed = isPlainProfile(bytes) ? parseProfile(bytes) : await readSignedProfile(bytes);
 * ```
 */
export function isPlainProfile(bytes: Uint8Array): boolean {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)
  )
    i++;
  if (bytes[i] === 0x3c) return true; // '<': <?xml or <plist
  return Buffer.from(bytes.subarray(0, 6)).toString('latin1') === 'bplist';
}

/**
 * Verifies a signed profile (DER, PEM or S/MIME as `openssl smime -sign` writes it) and returns its
 * content. The signature must cover the content; with `trusted`, the signer must chain to an anchor.
 *
 * @throws ProfileError `NOT_SIGNED` for a plain property list; `SIGNATURE_INVALID` when the message is
 *   malformed, the signature does not verify or the content was changed; `UNTRUSTED_SIGNER` when the
 *   chain does not end at `trusted`.
 * @example
 * ```ts
 * const { content, signer } = await verifySignedProfile(bytes, { trusted: [rootCa] });
 * ```
 */
export async function verifySignedProfile(
  bytes: Uint8Array,
  options: VerifyProfileOptions = {},
): Promise<VerifiedProfile> {
  const max = options.maxBytes ?? defaultProfileLimits.maxBytes;
  if (bytes.length > max)
    throw new ProfileError('MALFORMED_PROFILE', `signed profile is larger than ${max} bytes`);
  if (isPlainProfile(bytes)) throw new ProfileError('NOT_SIGNED', 'the profile is not signed');
  let verified: Awaited<ReturnType<typeof verifyCms>>;
  try {
    verified = await verifyCms(unwrapSmime(bytes));
  } catch (e) {
    throw new ProfileError('SIGNATURE_INVALID', 'the profile signature does not verify', { cause: e });
  }
  let trusted = false;
  if (options.trusted) {
    try {
      verifyCertificateChain(verified.signer, {
        trusted: options.trusted,
        intermediates: verified.certificates,
        ...(options.at ? { at: options.at } : {}),
      });
      trusted = true;
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e;
      throw new ProfileError(
        'UNTRUSTED_SIGNER',
        'the profile signer does not chain to a trusted certificate',
        {
          cause: e,
        },
      );
    }
  }
  return {
    content: verified.content,
    signer: verified.signer,
    certificates: verified.certificates,
    trusted,
    ...(verified.signingTime ? { signingTime: verified.signingTime } : {}),
  };
}

/** A signed profile, verified and read. */
export interface ReadSignedProfile extends ParsedProfile {
  signature: Omit<VerifiedProfile, 'content'>;
}

/**
 * Verifies a signed profile and reads its content leniently (see `parseProfile`).
 *
 * @example
 * ```ts
 * const profile = await readSignedProfile(bytes, { trusted: [rootCa] });
 * profile.signature.signer.subject.toString();
 * profile.payloads.map((p) => p.payloadType);
 * ```
 */
export async function readSignedProfile(
  bytes: Uint8Array,
  options: VerifyProfileOptions & { limits?: Partial<PlistLimits> } = {},
): Promise<ReadSignedProfile> {
  const { content, ...signature } = await verifySignedProfile(bytes, options);
  return { ...parseProfile(content, options.limits ? { limits: options.limits } : {}), signature };
}

/** A profile read by {@link readProfile}: `signature` is present when the bytes were signed. */
export interface ReadProfile extends ParsedProfile {
  signature?: Omit<VerifiedProfile, 'content'>;
}

/**
 * Reads any profile: a signed one is verified (and must chain to `trusted` when given), a plain one is
 * parsed, unless `requireSigned`. Payloads are read leniently either way (see `parseProfile`).
 *
 * @throws ProfileError `NOT_SIGNED` for a plain profile with `requireSigned`; the errors of
 *   {@link verifySignedProfile} and `parseProfile`.
 * @example
 * ```ts
 * const profile = await readProfile(uploadedBytes, { trusted: [rootCa], requireSigned: true });
 * ```
 */
export async function readProfile(
  bytes: Uint8Array,
  options: VerifyProfileOptions & { limits?: Partial<PlistLimits>; requireSigned?: boolean } = {},
): Promise<ReadProfile> {
  if (isPlainProfile(bytes) && !options.requireSigned) {
    return parseProfile(bytes, options.limits ? { limits: options.limits } : {});
  }
  return readSignedProfile(bytes, options);
}
