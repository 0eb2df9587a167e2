import type { PlistValue } from '@mdmkit/plist';
import type { Payload, PayloadOptions } from './define';
import {
  type ManagedClientPreferencesPayload,
  managedClientPreferencesPayload,
} from './generated/payloads/com-apple-managedclient-preferences';
import { rawPayload } from './lookup';

/** Settings of one preference domain. */
export interface DomainPreferences {
  /** Enforced on every application of the profile. */
  forced?: Readonly<Record<string, PlistValue>>;
  /** Applied once; the user may change them afterwards. */
  setOnce?: Readonly<Record<string, PlistValue>>;
}

/**
 * A com.apple.ManagedClient.preferences payload ("Custom Settings", macOS) for any preference domains:
 * each domain's settings are wrapped as `{ Forced: [{ mcx_preference_settings }] }` and/or `Set-Once`.
 *
 * @example
 * ```ts
 * const payload = managedPreferencesPayload({
 *   'com.example.app': { forced: { ServerURL: 'https://app.example.com', AutoUpdate: true } },
 * });
 * ```
 */
export function managedPreferencesPayload(
  domains: Readonly<Record<string, DomainPreferences>>,
  options?: PayloadOptions,
): Payload<'com.apple.ManagedClient.preferences', ManagedClientPreferencesPayload> {
  const content: ManagedClientPreferencesPayload['PayloadContent'] = {};
  for (const [domain, prefs] of Object.entries(domains)) {
    const entry: ManagedClientPreferencesPayload['PayloadContent'][string] = {};
    if (prefs.forced) entry.Forced = [{ mcx_preference_settings: { ...prefs.forced } }];
    if (prefs.setOnce) entry['Set-Once'] = [{ mcx_preference_settings: { ...prefs.setOnce } }];
    content[domain] = entry;
  }
  return managedClientPreferencesPayload({ PayloadContent: content }, options);
}

/**
 * A payload whose PayloadType is the preference domain itself, with the settings as its keys: the
 * form macOS also accepts for an app's managed preferences.
 *
 * @example
 * ```ts
 * const payload = domainPreferencesPayload('com.example.app', { ServerURL: 'https://app.example.com' });
 * ```
 */
export function domainPreferencesPayload(
  domain: string,
  settings: Readonly<Record<string, PlistValue>>,
  options?: PayloadOptions,
): Payload<string, Record<string, unknown>> {
  return rawPayload(domain, { ...settings }, options);
}
