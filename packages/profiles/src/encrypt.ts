import type { KeyObject } from 'node:crypto';
import { type Certificate, type ContentCipher, decryptCms, encryptCms } from '@mdmkit/crypto';
import { buildXmlBytes, type PlistDict, type PlistValue, parse } from '@mdmkit/plist';
import { ProfileError } from './errors';
import { defaultProfileLimits } from './parse';
import type { ProfileDict } from './profile';

/** Options of {@link encryptProfile}. */
export interface EncryptProfileOptions {
  /** The device's identity certificate (RSA): only its private key can open the payloads. */
  recipient: Certificate;
  /** Default `aes-256-cbc`. */
  cipher?: ContentCipher;
}

/**
 * Encrypts a profile's payloads to one device: PayloadContent is written as a property list, enveloped
 * (CMS EnvelopedData) for the device's identity certificate, and replaced by EncryptedPayloadContent.
 * The top-level keys stay readable. Sign the result as usual.
 *
 * @example
 * ```ts
 * const encrypted = await encryptProfile(profile, { recipient: deviceIdentityCert });
 * const signed = await signProfile(encrypted, { certificate, privateKey });
 * ```
 */
export async function encryptProfile(
  profile: ProfileDict,
  options: EncryptProfileOptions,
): Promise<ProfileDict> {
  if (!Array.isArray(profile.PayloadContent)) {
    throw new ProfileError('INVALID_PROFILE', 'profile has no PayloadContent to encrypt', {
      keyPath: ['PayloadContent'],
    });
  }
  const inner = buildXmlBytes(profile.PayloadContent as PlistValue[]);
  const der = await encryptCms({
    content: inner,
    recipients: [options.recipient],
    cipher: options.cipher ?? 'aes-256-cbc',
  });
  const { PayloadContent: _, ...rest } = profile as PlistDict;
  return { ...rest, IsEncrypted: true, EncryptedPayloadContent: der } as ProfileDict;
}

/**
 * Opens EncryptedPayloadContent with the device's key and returns the profile with PayloadContent in
 * its place. Every failure to open it (wrong key, tampered bytes, bad padding, content that is not a
 * payload list) gives the same error. The time taken is not the same (content with valid padding is then
 * parsed), and AES-CBC has no integrity of its own: decrypt only profiles whose signature was verified.
 *
 * @throws ProfileError `DECRYPTION_FAILED` (one message for every cause); `INVALID_PROFILE` when the
 *   profile is not encrypted.
 * @example
 * ```ts
 * const plain = await decryptProfile(parsed.dict, { certificate: identityCert, privateKey: identityKey });
 * ```
 */
export async function decryptProfile(
  profile: Readonly<Record<string, unknown>>,
  key: { certificate: Certificate; privateKey: KeyObject },
): Promise<ProfileDict> {
  const enc = profile.EncryptedPayloadContent;
  if (!(enc instanceof Uint8Array)) {
    throw new ProfileError('INVALID_PROFILE', 'profile has no EncryptedPayloadContent', {
      keyPath: ['EncryptedPayloadContent'],
    });
  }
  let content: PlistValue;
  try {
    const { content: bytes } = await decryptCms(enc, { recipients: [key] });
    content = parse(bytes, { reals: 'number', limits: defaultProfileLimits });
  } catch {
    // One answer whatever failed, so that a caller cannot learn which step did.
    throw new ProfileError('DECRYPTION_FAILED', 'encrypted payload content could not be opened');
  }
  if (!Array.isArray(content))
    throw new ProfileError('DECRYPTION_FAILED', 'encrypted payload content could not be opened');
  const { EncryptedPayloadContent: _, IsEncrypted: __, ...rest } = profile;
  return { ...rest, PayloadContent: content } as ProfileDict;
}
