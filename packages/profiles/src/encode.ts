import { buildXmlBytes } from '@mdmkit/plist';
import type { ProfileDict } from './profile';

/**
 * Writes a profile as a `.mobileconfig`: an XML property list, tab-indented as Apple's tools write it.
 *
 * @example
 * ```ts
 * writeFileSync('wifi.mobileconfig', encodeProfile(buildProfile({ identifier: 'com.example.wifi', payloads })));
 * ```
 */
export function encodeProfile(profile: ProfileDict): Uint8Array {
  return buildXmlBytes(profile);
}
