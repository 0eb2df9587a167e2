import { type PlistDict, type PlistValue, real } from '@mdmkit/plist';
import type { Payload } from './define';
import { ProfileError, type ProfileIssue } from './errors';
import { CommonPayloadKeysSchema, type ProfileTopLevel, ProfileTopLevelSchema } from './generated/top-level';
import { newUuid, stableUuid } from './identifiers';
import { schemaIssues, throwIssues, unwritable } from './validate';

/** Options of {@link buildProfile}. */
export interface ProfileOptions {
  /** The profile's PayloadIdentifier (reverse DNS). A profile with the same identifier replaces this one. */
  identifier: string;
  payloads: readonly Payload[];
  /** The profile's PayloadUUID; default random, or derived from `identifier` with `stableIdentifiers`. */
  uuid?: string;
  /**
   * Derive every missing PayloadUUID from the identifiers instead of choosing it at random, so that
   * the same input always builds the same profile. Default false.
   */
  stableIdentifiers?: boolean;
  displayName?: string;
  description?: string;
  organization?: string;
  /** macOS: install for the whole system or for the user. The device's default when absent. */
  scope?: 'System' | 'User';
  /** The user cannot remove the profile (supervised devices). */
  removalDisallowed?: boolean;
  /** Remove the profile at this date. */
  removalDate?: Date;
  /** Remove the profile this many seconds after installation. */
  durationUntilRemoval?: number;
  /** The profile expires at this date. */
  expirationDate?: Date;
  /** Agreement text by BCP 47 language code, plus an optional `default`. */
  consentText?: Readonly<Record<string, string>>;
  /** The profile carries a com.apple.profileRemovalPassword payload. */
  hasRemovalPasscode?: boolean;
  /** 0 any, 1 iOS/tvOS, 2 macOS, 3 visionOS, 4 watchOS, 5 Apple TV … as the schema lists. */
  targetDeviceType?: ProfileTopLevel['TargetDeviceType'];
}

/** A configuration profile's dictionary, validated, as {@link encodeProfile} writes it. */
export type ProfileDict = Omit<ProfileTopLevel, 'PayloadContent'> & {
  PayloadContent: PlistDict[];
} & PlistDict;

/** The PayloadIdentifier of the `index`-th payload when none is given: `<profile>.<type>[.<n>]`. */
function defaultIdentifier(profileId: string, payloadType: string, seen: Map<string, number>): string {
  const n = (seen.get(payloadType) ?? 0) + 1;
  seen.set(payloadType, n);
  return n === 1 ? `${profileId}.${payloadType}` : `${profileId}.${payloadType}.${n}`;
}

/** Issues for UUIDs (case-insensitive) and identifiers used twice, each with the payload's index. */
function duplicateIssues(
  profileUuid: string,
  dicts: PlistDict[],
): { uuid: ProfileIssue[]; id: ProfileIssue[] } {
  const uuids = new Map<string, (string | number)[]>([[profileUuid.toUpperCase(), ['PayloadUUID']]]);
  const ids = new Map<string, number>();
  const uuid: ProfileIssue[] = [];
  const id: ProfileIssue[] = [];
  dicts.forEach((d, i) => {
    const u = String(d.PayloadUUID).toUpperCase();
    const first = uuids.get(u);
    if (first)
      uuid.push({
        path: ['PayloadContent', i, 'PayloadUUID'],
        message: `same PayloadUUID as ${first.join('.')}`,
      });
    else uuids.set(u, ['PayloadContent', i, 'PayloadUUID']);
    const pid = String(d.PayloadIdentifier);
    const before = ids.get(pid);
    if (before !== undefined)
      id.push({
        path: ['PayloadContent', i, 'PayloadIdentifier'],
        message: `same PayloadIdentifier as PayloadContent.${before}`,
      });
    else ids.set(pid, i);
  });
  return { uuid, id };
}

/** Refuses anything the payload builders did not make (a plain dictionary, a missing entry). */
function checkBuilt(p: unknown, index: number): void {
  const ok =
    typeof p === 'object' &&
    p !== null &&
    typeof (p as Payload).payloadType === 'string' &&
    typeof (p as Payload).content === 'object' &&
    (p as Payload).content !== null &&
    typeof (p as Payload).options === 'object' &&
    (p as Payload).options !== null;
  if (!ok) {
    throw new ProfileError('INVALID_PROFILE', `profile: PayloadContent.${index} is not a built payload`, {
      keyPath: ['PayloadContent', index],
    });
  }
}

/**
 * One payload's dictionary: the common keys first, then its own keys. `buildProfile` calls it for
 * every payload; use it to embed a payload somewhere other than a profile.
 *
 * @example
 * ```ts
 * const dict = payloadDict(securityRootPayload({ PayloadContent: caDer }), 'com.example.root', newUuid());
 * ```
 */
export function payloadDict(payload: Payload, identifier: string, uuid: string): PlistDict {
  const o = payload.options;
  const dict: PlistDict = {
    PayloadType: payload.payloadType,
    PayloadVersion: 1,
    PayloadIdentifier: identifier,
    PayloadUUID: uuid,
  };
  if (o.displayName !== undefined) dict.PayloadDisplayName = o.displayName;
  if (o.description !== undefined) dict.PayloadDescription = o.description;
  if (o.organization !== undefined) dict.PayloadOrganization = o.organization;
  for (const [k, v] of Object.entries(payload.content)) if (v !== undefined) dict[k] = v as PlistValue;
  return dict;
}

/**
 * Assembles a configuration profile: top-level keys, every payload's PayloadIdentifier and PayloadUUID
 * (generated where not given), PayloadVersion 1. Refuses duplicate UUIDs and identifiers and top-level
 * values the schema does not allow.
 *
 * @throws ProfileError `INVALID_PROFILE`, `DUPLICATE_UUID` or `DUPLICATE_IDENTIFIER`, with the key path.
 * @example
 * ```ts
 * const profile = buildProfile({
 *   identifier: 'com.example.wifi',
 *   displayName: 'Office Wi-Fi',
 *   stableIdentifiers: true,
 *   payloads: [wifiManagedPayload({ SSID_STR: 'Office', EncryptionType: 'WPA2', Password: secret })],
 * });
 * const bytes = encodeProfile(profile); // .mobileconfig (XML plist)
 * ```
 */
export function buildProfile(options: ProfileOptions): ProfileDict {
  const id = options.identifier;
  if (typeof id !== 'string' || id.length === 0) {
    throw new ProfileError('INVALID_PROFILE', 'profile: identifier must be a non-empty string', {
      keyPath: ['PayloadIdentifier'],
    });
  }
  const stable = options.stableIdentifiers === true;
  const profileUuid = options.uuid ?? (stable ? stableUuid(id) : newUuid());
  const payloads = options.payloads ?? [];
  if (!Array.isArray(payloads)) {
    throw new ProfileError('INVALID_PROFILE', 'profile: payloads must be a list', {
      keyPath: ['PayloadContent'],
    });
  }
  payloads.forEach(checkBuilt);
  const seen = new Map<string, number>();
  const dicts = payloads.map((p) => {
    const pid = p.options.identifier ?? defaultIdentifier(id, p.payloadType, seen);
    const uuid = p.options.uuid ?? (stable ? stableUuid(`${id}/${pid}`) : newUuid());
    return payloadDict(p, pid, uuid);
  });
  // The identity options are written as the payloads' common keys: strings only.
  throwIssues(
    'INVALID_PROFILE',
    'profile',
    dicts.flatMap((d, i) => schemaIssues(CommonPayloadKeysSchema, d, ['PayloadContent', i])),
  );
  const dup = duplicateIssues(profileUuid, dicts);
  if (dup.uuid.length) {
    const first = dup.uuid[0]!;
    throw new ProfileError('DUPLICATE_UUID', `profile: ${first.path.join('.')}: ${first.message}`, {
      keyPath: first.path,
      issues: dup.uuid,
    });
  }
  if (dup.id.length) {
    const first = dup.id[0]!;
    throw new ProfileError('DUPLICATE_IDENTIFIER', `profile: ${first.path.join('.')}: ${first.message}`, {
      keyPath: first.path,
      issues: dup.id,
    });
  }
  const top: PlistDict = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: id,
    PayloadUUID: profileUuid,
  };
  const optional: [string, unknown][] = [
    ['PayloadDisplayName', options.displayName],
    ['PayloadDescription', options.description],
    ['PayloadOrganization', options.organization],
    ['PayloadScope', options.scope],
    ['PayloadRemovalDisallowed', options.removalDisallowed],
    ['RemovalDate', options.removalDate],
    ['DurationUntilRemoval', options.durationUntilRemoval],
    ['PayloadExpirationDate', options.expirationDate],
    ['ConsentText', options.consentText],
    ['HasRemovalPasscode', options.hasRemovalPasscode],
    ['TargetDeviceType', options.targetDeviceType],
  ];
  for (const [k, v] of optional) if (v !== undefined) top[k] = v as PlistValue;
  top.PayloadContent = dicts;
  const issues = schemaIssues(ProfileTopLevelSchema, top);
  const bad = unwritable(top);
  if (bad) issues.push(bad);
  if (options.removalDate && options.durationUntilRemoval !== undefined) {
    issues.push({
      path: ['DurationUntilRemoval'],
      message: 'give either RemovalDate or DurationUntilRemoval',
    });
  }
  if (options.durationUntilRemoval !== undefined && !(options.durationUntilRemoval > 0)) {
    issues.push({ path: ['DurationUntilRemoval'], message: 'must be a positive number of seconds' });
  }
  throwIssues('INVALID_PROFILE', 'profile', issues);
  // A real in the schema: written as <real> even when whole (after validation, which sees numbers).
  if (typeof options.durationUntilRemoval === 'number') {
    top.DurationUntilRemoval = real(options.durationUntilRemoval);
  }
  return top as ProfileDict;
}
