import { verifyCms } from '@mdmkit/crypto';
import { parse } from '@mdmkit/plist';
import { TestkitError } from '../errors';
import { isDict } from './plist-dict';

/** What a device takes from an enrollment profile. */
export interface EnrollmentProfileFacts {
  /** The profile's PayloadIdentifier: what RemoveProfile names to unenroll. */
  identifier?: string;
  serverUrl: string;
  checkInUrl: string;
  topic: string;
  signMessage: boolean;
  scep: { url: string; challenge?: string; subject: Record<string, string>; caFingerprint?: Uint8Array };
}

function bad(message: string, cause?: unknown): TestkitError {
  return new TestkitError('INVALID_PROFILE', `enrollment profile: ${message}`, { cause });
}

/**
 * Reads the MDM and SCEP payloads of an enrollment profile, signed (CMS, verified) or plain.
 *
 * @example
 * ```ts
 * const facts = await readEnrollmentProfile(profileBytes);
 * facts.serverUrl; // 'https://mdm.example.com/mdm'
 * ```
 */
export async function readEnrollmentProfile(bytes: Uint8Array): Promise<EnrollmentProfileFacts> {
  let content = bytes;
  if (bytes[0] === 0x30) {
    try {
      content = (await verifyCms(bytes)).content;
    } catch (e) {
      throw bad('the signature does not verify', e);
    }
  }
  let profile: unknown;
  try {
    profile = parse(content);
  } catch (e) {
    throw bad('not a property list', e);
  }
  if (!isDict(profile) || !Array.isArray(profile.PayloadContent)) throw bad('no PayloadContent');
  const payloads = profile.PayloadContent.filter(isDict);
  const mdm = payloads.find((p) => p.PayloadType === 'com.apple.mdm');
  const scep = payloads.find((p) => p.PayloadType === 'com.apple.security.scep');
  if (!mdm || typeof mdm.ServerURL !== 'string' || typeof mdm.Topic !== 'string') throw bad('no MDM payload');
  if (!scep || !isDict(scep.PayloadContent) || typeof scep.PayloadContent.URL !== 'string') {
    throw bad('no SCEP payload');
  }
  const s = scep.PayloadContent;
  const subject: Record<string, string> = {};
  if (Array.isArray(s.Subject)) {
    for (const rdn of s.Subject) {
      if (!Array.isArray(rdn)) continue;
      for (const pair of rdn) {
        if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string')
          subject[pair[0]] = pair[1];
      }
    }
  }
  return {
    ...(typeof profile.PayloadIdentifier === 'string' ? { identifier: profile.PayloadIdentifier } : {}),
    serverUrl: mdm.ServerURL,
    checkInUrl: typeof mdm.CheckInURL === 'string' ? mdm.CheckInURL : mdm.ServerURL,
    topic: mdm.Topic,
    signMessage: mdm.SignMessage === true,
    scep: {
      url: s.URL as string,
      subject: Object.keys(subject).length ? subject : { CN: 'virtual device' },
      ...(typeof s.Challenge === 'string' ? { challenge: s.Challenge } : {}),
      ...(s.CAFingerprint instanceof Uint8Array ? { caFingerprint: s.CAFingerprint } : {}),
    },
  };
}
