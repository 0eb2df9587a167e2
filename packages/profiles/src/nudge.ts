import type { PlistValue } from '@mdmkit/plist';
import type { Payload, PayloadOptions } from './define';
import { ProfileError } from './errors';
import { instantOf, parseWallTime } from './local-time';
import { domainPreferencesPayload, managedPreferencesPayload } from './managed-preferences';

/** Nudge's preference domain. */
export const NUDGE_DOMAIN = 'com.github.macadmins.Nudge';

/** Options of {@link nudgeConfiguration}. */
export interface NudgeOptions {
  /** The macOS version every Mac must reach, e.g. `15.1.1`. */
  minimumVersion: string;
  /**
   * The deadline as a wall-clock time in `timeZone`: `YYYY-MM-DDTHH:mm[:ss]`, or `YYYY-MM-DD` for the
   * start of that day (00:00, or 01:00 where clocks skip midnight). No offset or `Z`: the zone says where.
   */
  deadline: string;
  /** IANA zone of the deadline, e.g. `Europe/Berlin`. Required: a deadline without one is ambiguous. */
  timeZone: string;
  /** More Info link shown by Nudge. */
  aboutUpdateUrl?: string;
  /** Which installed versions this requirement applies to; default `default` (all). */
  targetedOSVersionsRule?: string;
}

/** The user experience Nudge is given: how often it reminds, by how close the deadline is. */
export interface NudgeUserExperience {
  /** Seconds between reminders while more than `approachingWindowTime` hours are left: one day. */
  initialRefreshCycle: number;
  /** Hours before the deadline at which reminders speed up: the last day. */
  approachingWindowTime: number;
  /** Seconds between reminders inside that window: two hours. */
  approachingRefreshCycle: number;
  /** Hours before the deadline of the imminent window (the same last day). */
  imminentWindowTime: number;
  /** Seconds between reminders inside the imminent window: two hours. */
  imminentRefreshCycle: number;
  /** Seconds between re-activations after the deadline, when it can no longer be dismissed. */
  elapsedRefreshCycle: number;
}

/** A Nudge configuration with the deadline as an instant. */
export interface NudgeConfiguration {
  osVersionRequirements: {
    requiredMinimumOSVersion: string;
    /** The instant of the deadline (the wall-clock time in the zone given, converted). */
    requiredInstallationDate: Date;
    targetedOSVersionsRule: string;
    aboutUpdateURL?: string;
  }[];
  userExperience: NudgeUserExperience;
  optionalFeatures: {
    /** After the deadline Nudge hides its defer and quit buttons and keeps itself in front. */
    aggressiveUserExperience: boolean;
    aggressiveUserFullScreenExperience: boolean;
  };
}

const DAY_SECONDS = 86_400;
const TWO_HOURS_SECONDS = 7_200;
/** After the deadline Nudge comes back this often if the user switches away. */
const ELAPSED_SECONDS = 300;

function fail(message: string, key: string, cause?: unknown): never {
  throw new ProfileError('INVALID_NUDGE', `nudge: ${message}`, {
    keyPath: [key],
    ...(cause ? { cause } : {}),
  });
}

/**
 * Builds a Nudge configuration from a minimum version and a local deadline. The deadline is converted
 * to one instant (what `requiredInstallationDate` holds) from the wall-clock time in `timeZone`; the
 * reminder windows count real hours back from that instant, so a DST change inside the last day
 * makes it 23 or 25 hours on the wall clock but still 24 real hours.
 *
 * Escalation: a reminder once a day while more than a day is left; every two hours inside the last
 * day; after the deadline Nudge cannot be dismissed (aggressive user experience) and returns every
 * five minutes.
 *
 * @throws ProfileError `INVALID_NUDGE` for a malformed version, a deadline that is not a local time, an
 *   unknown zone, or a time that clocks skip in that zone (the hour lost when DST starts). Where a time
 *   occurs twice (DST ends), the earlier instant is used.
 * @example
 * ```ts
 * const config = nudgeConfiguration({ minimumVersion: '15.1.1', deadline: '2026-03-30T17:00', timeZone: 'Europe/Berlin' });
 * config.osVersionRequirements[0].requiredInstallationDate.toISOString(); // '2026-03-30T15:00:00.000Z'
 * writeFileSync('nudge.json', nudgeJson(config));
 * const payload = nudgePayload(config); // for a configuration profile
 * ```
 */
export function nudgeConfiguration(options: NudgeOptions): NudgeConfiguration {
  if (typeof options.minimumVersion !== 'string' || !/^\d+(\.\d+){0,2}$/.test(options.minimumVersion)) {
    fail('minimumVersion must look like 15, 15.1 or 15.1.1', 'minimumVersion');
  }
  const wall = typeof options.deadline === 'string' ? parseWallTime(options.deadline) : undefined;
  if (!wall) fail('deadline must be YYYY-MM-DD or YYYY-MM-DDTHH:mm[:ss] without a zone', 'deadline');
  if (typeof options.timeZone !== 'string') fail('timeZone must be an IANA zone name', 'timeZone');
  // A date alone means the start of that day, which is not 00:00 where clocks skip midnight.
  const dateOnly = !options.deadline.includes('T');
  const at = instantOf(wall, options.timeZone, dateOnly ? { skipped: 'end' } : {});
  if (at === 'invalid-zone') fail(`unknown time zone ${options.timeZone.slice(0, 64)}`, 'timeZone');
  if (at === 'invalid-time') fail('deadline is out of range', 'deadline');
  if (at === 'skipped')
    fail(`${options.deadline} does not exist in ${options.timeZone} (clocks skip it)`, 'deadline');
  const requirement: NudgeConfiguration['osVersionRequirements'][number] = {
    requiredMinimumOSVersion: options.minimumVersion,
    requiredInstallationDate: at,
    targetedOSVersionsRule: options.targetedOSVersionsRule ?? 'default',
  };
  if (options.aboutUpdateUrl !== undefined) requirement.aboutUpdateURL = options.aboutUpdateUrl;
  return {
    osVersionRequirements: [requirement],
    userExperience: {
      initialRefreshCycle: DAY_SECONDS,
      approachingWindowTime: 24,
      approachingRefreshCycle: TWO_HOURS_SECONDS,
      imminentWindowTime: 24,
      imminentRefreshCycle: TWO_HOURS_SECONDS,
      elapsedRefreshCycle: ELAPSED_SECONDS,
    },
    optionalFeatures: { aggressiveUserExperience: true, aggressiveUserFullScreenExperience: true },
  };
}

/** What Nudge does at a moment: which window it is in, how often it reminds, whether it can be dismissed. */
export interface NudgeReminder {
  phase: 'initial' | 'imminent' | 'elapsed';
  intervalSeconds: number;
  dismissible: boolean;
}

/**
 * The reminder behaviour `config` gives at instant `at` (first requirement), as Nudge applies its
 * windows: for checking a schedule before shipping it.
 *
 * @example
 * ```ts
 * nudgeReminderAt(config, new Date('2026-03-30T12:00:00Z')); // { phase: 'imminent', intervalSeconds: 7200, dismissible: true }
 * ```
 */
export function nudgeReminderAt(config: NudgeConfiguration, at: Date): NudgeReminder {
  const deadline = config.osVersionRequirements[0]!.requiredInstallationDate.getTime();
  const ux = config.userExperience;
  const left = deadline - at.getTime();
  if (left <= 0) return { phase: 'elapsed', intervalSeconds: ux.elapsedRefreshCycle, dismissible: false };
  if (left <= ux.imminentWindowTime * 3_600_000) {
    return { phase: 'imminent', intervalSeconds: ux.imminentRefreshCycle, dismissible: true };
  }
  return { phase: 'initial', intervalSeconds: ux.initialRefreshCycle, dismissible: true };
}

/** `2026-03-30T15:00:00Z`: the date form Nudge's JSON documents (UTC, whole seconds). */
function nudgeDate(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * The configuration as Nudge's JSON file; `requiredInstallationDate` is written in UTC with `Z`.
 *
 * @example
 * ```ts
 * writeFileSync('/Library/Preferences/com.github.macadmins.Nudge.json', nudgeJson(config));
 * ```
 */
export function nudgeJson(config: NudgeConfiguration): string {
  return `${JSON.stringify(
    config,
    function replace(this: Record<string, unknown>, key, value) {
      const raw = this[key];
      return raw instanceof Date ? nudgeDate(raw) : value;
    },
    2,
  )}\n`;
}

function asPreferences(config: NudgeConfiguration): Record<string, PlistValue> {
  return {
    osVersionRequirements: config.osVersionRequirements.map((r) => ({ ...r })),
    userExperience: { ...config.userExperience },
    optionalFeatures: { ...config.optionalFeatures },
  };
}

/**
 * The configuration as a profile payload. `form: 'domain'` (default) writes a payload whose
 * PayloadType is `com.github.macadmins.Nudge`; `'custom-settings'` wraps the same keys in a
 * com.apple.ManagedClient.preferences payload. `requiredInstallationDate` is a plist `<date>` (UTC).
 *
 * @example
 * ```ts
 * const profile = buildProfile({ identifier: 'com.example.nudge', payloads: [nudgePayload(config)] });
 * ```
 */
export function nudgePayload(
  config: NudgeConfiguration,
  options: PayloadOptions & { form?: 'domain' | 'custom-settings' } = {},
): Payload {
  const { form, ...payloadOptions } = options;
  const prefs = asPreferences(config);
  if (form === 'custom-settings') {
    return managedPreferencesPayload({ [NUDGE_DOMAIN]: { forced: prefs } }, payloadOptions);
  }
  return domainPreferencesPayload(NUDGE_DOMAIN, prefs, payloadOptions);
}
