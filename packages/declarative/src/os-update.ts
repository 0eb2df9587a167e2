import type { Declaration } from './define';
import { DeclarativeError } from './errors';
import {
  type SoftwareUpdateEnforcementSpecificPayload,
  SoftwareUpdateEnforcementSpecificDeclaration as enforcement,
} from './generated/declarations/configuration-softwareupdate-enforcement-specific';
import type { StatusManagementClientCapabilities } from './generated/status-items';
import type { ParsedStatusReport } from './status-report';
import type { EnrollmentType, OsName } from './support';

// A Set, not `in` on an object literal: `constructor` or `__proto__` from a status report is no OS.
const OS_NAMES: ReadonlySet<string> = new Set<OsName>(['iOS', 'macOS', 'tvOS', 'visionOS', 'watchOS']);

/** The identifier OS-update declarations get unless told otherwise: one per set, replaced in place. */
export const OS_UPDATE_IDENTIFIER = 'com.mdmkit.os-update';

/**
 * When the update must be installed, as the device's own wall clock reads it.
 * - a string `YYYY-MM-DDTHH:MM:SS` is sent as is: every device applies it in its own time zone;
 * - `{ at, timeZone }` turns an instant into the wall-clock time of that IANA zone first.
 */
export type OsUpdateDeadline = string | { at: Date; timeZone: string };

/** Input of {@link osUpdateEnforcement}. */
export interface OsUpdateTarget {
  /** The OS version devices must reach, e.g. `17.5` or `14.6.1`. */
  minimumVersion: string;
  deadline: OsUpdateDeadline;
  /** A build to pin, e.g. `21G93` (the version wins if the two disagree). */
  buildVersion?: string;
  /** A page that explains the update to users. */
  detailsURL?: string;
  /** Default {@link OS_UPDATE_IDENTIFIER}. */
  identifier?: string;
}

// ScheduleOSUpdate per its schema (mdm/commands/system.update.schedule.yaml): iOS and tvOS, supervised
// only, forbidden in user enrollment; not on visionOS or watchOS. Macs that cannot take the declaration use Nudge.
const COMMAND_OS_NAMES: ReadonlySet<string> = new Set<OsName>(['iOS', 'tvOS']);

function fallbackPath(os: OsName, enrollment: EnrollmentType | undefined): OsUpdatePath {
  if (os === 'macOS') return 'nudge';
  if (!COMMAND_OS_NAMES.has(os)) return 'none';
  return enrollment === undefined || enrollment === 'supervised' ? 'mdm-command' : 'none';
}

function invalid(message: string, cause?: unknown): never {
  throw new DeclarativeError('INVALID_OS_UPDATE', message, cause === undefined ? undefined : { cause });
}

/** `17.5.1` -> [17, 5, 1]; undefined unless 1–3 dot-separated decimal numbers. */
export function parseOsVersion(version: string): number[] | undefined {
  if (typeof version !== 'string' || !/^\d{1,5}(\.\d{1,5}){0,2}$/.test(version)) return undefined;
  return version.split('.').map(Number);
}

/** Negative, zero or positive as `a` is older than, the same as or newer than `b` (`17.5` = `17.5.0`). */
function compareOsVersions(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

function checkLocalDateTime(s: string): string {
  const m = LOCAL_DATE_TIME.exec(s);
  if (!m) invalid('deadline: expected YYYY-MM-DDTHH:MM:SS without a time zone');
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || se > 59) {
    invalid('deadline: not a date and time of the calendar');
  }
  return s;
}

/** The wall-clock time `at` shows in `timeZone`, as `YYYY-MM-DDTHH:MM:SS`. */
export function localDateTimeIn(at: Date, timeZone: string): string {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) invalid('deadline.at: expected a valid Date');
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(at);
  } catch (cause) {
    invalid('deadline.timeZone: not an IANA time zone', cause);
  }
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  // Years before the common era print as positive numbers; years past 9999 have five digits.
  if (get('era') !== 'AD') invalid('deadline.at: before the year 1');
  return checkLocalDateTime(
    `${get('year').padStart(4, '0')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}`,
  );
}

/**
 * The `com.apple.configuration.softwareupdate.enforcement.specific` declaration for "be on at least
 * `minimumVersion` by `deadline`".
 *
 * What the device does with it: once active, it fetches the update in the background and notifies
 * the user, more often in the last day and hour before the deadline; at `TargetLocalDateTime` — read
 * on the device's own clock in the device's own time zone, so a fleet spread over time zones updates
 * at the same local hour, not at the same instant — it installs and restarts without further consent
 * (a device that was off then installs shortly after it starts). A device already on
 * `minimumVersion` or later does nothing; a version Apple's catalog does not offer for the device
 * leaves the declaration active with nothing to install. Needs iOS 17 (supervised or device
 * enrollment) or macOS 14 (supervised); see {@link osUpdatePath} for the others.
 * @throws DeclarativeError `INVALID_OS_UPDATE` for a version that is not 1–3 numbers, a deadline that
 * is not a calendar date and time, or an unknown time zone; `INVALID_DECLARATION` for the rest.
 * @example
 * ```ts
 * // 18:00 on the device's clock, wherever it is:
 * const update = osUpdateEnforcement({ minimumVersion: '17.5', deadline: '2026-12-15T18:00:00' });
 * // 18:00 in Berlin, sent as the matching local time:
 * osUpdateEnforcement({ minimumVersion: '14.6.1', deadline: { at: new Date('2026-12-15T17:00:00Z'), timeZone: 'Europe/Berlin' } });
 * const set = createDeclarationSet([update, activationSimple({ StandardConfigurations: [update.Identifier] })]);
 * ```
 */
export function osUpdateEnforcement(
  target: OsUpdateTarget,
): Declaration<typeof enforcement.type, SoftwareUpdateEnforcementSpecificPayload> {
  if (!parseOsVersion(target?.minimumVersion))
    invalid('minimumVersion: expected a version such as 17.5 or 14.6.1');
  const deadline = target.deadline;
  let local: string;
  if (typeof deadline === 'string') local = checkLocalDateTime(deadline);
  else if (deadline && typeof deadline === 'object' && typeof deadline.timeZone === 'string') {
    local = localDateTimeIn(deadline.at, deadline.timeZone);
  } else invalid('deadline: expected YYYY-MM-DDTHH:MM:SS or { at: Date, timeZone }');
  const payload: SoftwareUpdateEnforcementSpecificPayload = {
    TargetOSVersion: target.minimumVersion,
    TargetLocalDateTime: local,
  };
  if (target.buildVersion !== undefined) payload.TargetBuildVersion = target.buildVersion;
  if (target.detailsURL !== undefined) payload.DetailsURL = target.detailsURL;
  return enforcement.build(payload, { identifier: target.identifier ?? OS_UPDATE_IDENTIFIER });
}

/** How a device reaches the minimum version. */
export type OsUpdatePath =
  /** Already on the minimum version or later. */
  | 'up-to-date'
  /** Send the enforcement declaration. */
  | 'declaration'
  /** A Mac that cannot take the declaration: prompt with Nudge (managed preferences, @mdmkit/profiles). */
  | 'nudge'
  /** Not a Mac, cannot take the declaration, and may take the ScheduleOSUpdate command (supervised iOS or tvOS). */
  | 'mdm-command'
  /**
   * Nothing enforces the update: neither the declaration nor ScheduleOSUpdate, which needs supervision
   * and is forbidden in user enrollment (an unsupervised iPhone before iOS 17, a user-enrolled one, a watch).
   */
  | 'none';

/** What is known of a device. Fields left out are read from `status` where it has them. */
export interface OsUpdateDevice {
  os?: OsName | 'iPadOS';
  osVersion?: string;
  /** How the device is enrolled; declarations are refused outside the enrollments the schema allows. */
  enrollment?: EnrollmentType;
  /** The device's last status (for `device.operating-system.*` and `management.client-capabilities`). */
  status?: ParsedStatusReport;
  /** Capabilities from an earlier report, if `status` lacks them (they are sent only when they change). */
  capabilities?: StatusManagementClientCapabilities;
}

/** The answer of {@link osUpdatePath}, with the fact it rests on. */
export interface OsUpdateDecision {
  path: OsUpdatePath;
  reason: 'version' | 'capabilities' | 'os-version' | 'os' | 'enrollment';
}

/**
 * Decides from a device's OS, version, enrollment and status whether it takes the enforcement
 * declaration or needs the Nudge path (Macs) or the ScheduleOSUpdate command (supervised iOS and
 * tvOS; `none` for other devices, or `mdm-command` when the enrollment is not given). The
 * device's own `management.client-capabilities` win when present; otherwise the schema's first OS
 * version with the declaration (iOS 17.0, macOS 14.0) decides.
 * @throws DeclarativeError `INVALID_OS_UPDATE` when the OS or its version is unknown or malformed.
 * @example
 * ```ts
 * osUpdatePath({ os: 'macOS', osVersion: '13.6.7', enrollment: 'supervised' }, '14.6.1'); // { path: 'nudge', reason: 'os-version' }
 * osUpdatePath({ status: parseStatusReport(data), enrollment: 'supervised' }, '17.5'); // e.g. { path: 'declaration', reason: 'capabilities' }
 * ```
 */
export function osUpdatePath(device: OsUpdateDevice, minimumVersion: string): OsUpdateDecision {
  const items = device.status?.items ?? {};
  const osName = device.os ?? items['device.operating-system.family'];
  const version = device.osVersion ?? items['device.operating-system.version'];
  const target = parseOsVersion(minimumVersion);
  if (!target) invalid('minimumVersion: expected a version such as 17.5 or 14.6.1');
  const current = version === undefined ? undefined : parseOsVersion(version);
  if (!current) invalid('osVersion: unknown or not a version such as 17.5');
  const os = (osName === 'iPadOS' ? 'iOS' : osName) as OsName | undefined;
  if (!os || !OS_NAMES.has(os)) invalid('os: unknown');
  if (compareOsVersions(current, target) >= 0) return { path: 'up-to-date', reason: 'version' };
  const fallback = fallbackPath(os, device.enrollment);
  const facts = enforcement.support[os];
  const introduced = facts?.introduced && parseOsVersion(facts.introduced);
  if (!introduced) return { path: fallback, reason: 'os' };
  if (device.enrollment && !facts.allowedEnrollments?.includes(device.enrollment)) {
    return { path: fallback, reason: 'enrollment' };
  }
  const caps = items['management.client-capabilities'] ?? device.capabilities;
  const configurations = caps?.['supported-payloads']?.declarations?.configurations;
  if (Array.isArray(configurations)) {
    return {
      path: configurations.includes(enforcement.type) ? 'declaration' : fallback,
      reason: 'capabilities',
    };
  }
  return {
    path: compareOsVersions(current, introduced) >= 0 ? 'declaration' : fallback,
    reason: 'os-version',
  };
}
