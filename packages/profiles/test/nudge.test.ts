import { describe, expect, it } from 'vitest';
import {
  buildProfile,
  encodeProfile,
  NUDGE_DOMAIN,
  nudgeConfiguration,
  nudgeJson,
  nudgePayload,
  nudgeReminderAt,
  parseProfile,
} from '../src/index';
import { caught } from './caught';

const deadlineOf = (deadline: string, timeZone: string) =>
  nudgeConfiguration({
    minimumVersion: '15.1.1',
    deadline,
    timeZone,
  }).osVersionRequirements[0]!.requiredInstallationDate.toISOString();

describe('Nudge deadline: a local wall-clock time in a named zone', () => {
  it('standard and summer time on either side of a DST change', () => {
    // Europe/Berlin: CET (+1) until 2026-03-29 02:00, then CEST (+2).
    expect(deadlineOf('2026-03-28T17:00', 'Europe/Berlin')).toBe('2026-03-28T16:00:00.000Z');
    expect(deadlineOf('2026-03-30T17:00', 'Europe/Berlin')).toBe('2026-03-30T15:00:00.000Z');
    // America/New_York: EDT (-4) until 2026-11-01 02:00, then EST (-5).
    expect(deadlineOf('2026-10-31T09:00', 'America/New_York')).toBe('2026-10-31T13:00:00.000Z');
    expect(deadlineOf('2026-11-02T09:00', 'America/New_York')).toBe('2026-11-02T14:00:00.000Z');
    expect(deadlineOf('2026-07-01', 'UTC')).toBe('2026-07-01T00:00:00.000Z');
    // Southern hemisphere: Australia/Sydney leaves DST on 2026-04-05 (AEDT +11 -> AEST +10).
    expect(deadlineOf('2026-04-04T12:00', 'Australia/Sydney')).toBe('2026-04-04T01:00:00.000Z');
    expect(deadlineOf('2026-04-06T12:00', 'Australia/Sydney')).toBe('2026-04-06T02:00:00.000Z');
  });

  it('a time the clocks skip (spring forward) is refused; a time that occurs twice takes the earlier instant', () => {
    const e = caught(() =>
      nudgeConfiguration({ minimumVersion: '15.1', deadline: '2026-03-29T02:30', timeZone: 'Europe/Berlin' }),
    );
    expect(e.code).toBe('INVALID_NUDGE');
    expect(e.keyPath).toEqual(['deadline']);
    expect(
      caught(() =>
        nudgeConfiguration({
          minimumVersion: '15.1',
          deadline: '2026-03-08T02:30',
          timeZone: 'America/New_York',
        }),
      ).code,
    ).toBe('INVALID_NUDGE');
    // 01:30 on 2026-11-01 happens at 05:30Z (EDT) and again at 06:30Z (EST).
    expect(deadlineOf('2026-11-01T01:30', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
    expect(deadlineOf('2026-10-25T02:30', 'Europe/Berlin')).toBe('2026-10-25T00:30:00.000Z');
  });

  it('a date alone is the start of that day, also where the day starts at 01:00 (clocks skip midnight)', () => {
    // America/Santiago: -04 until 2026-09-06 00:00, which becomes 01:00 -03; the day starts at 04:00Z.
    expect(deadlineOf('2026-09-06', 'America/Santiago')).toBe('2026-09-06T04:00:00.000Z');
    expect(deadlineOf('2026-09-07', 'America/Santiago')).toBe('2026-09-07T03:00:00.000Z');
    expect(caught(() => deadlineOf('2026-09-06T00:30', 'America/Santiago')).code).toBe('INVALID_NUDGE');
  });

  it('refuses malformed input with INVALID_NUDGE and the option name', () => {
    const cases: [Record<string, string>, string][] = [
      [{ minimumVersion: 'fifteen' }, 'minimumVersion'],
      [{ deadline: '2026-03-30T17:00Z' }, 'deadline'],
      [{ deadline: '2026-02-30' }, 'deadline'],
      [{ deadline: '2026-03-30T24:00' }, 'deadline'],
      [{ timeZone: 'Mars/Olympus' }, 'timeZone'],
    ];
    for (const [change, key] of cases) {
      const e = caught(() =>
        nudgeConfiguration({
          minimumVersion: '15.1',
          deadline: '2026-03-30T17:00',
          timeZone: 'Europe/Berlin',
          ...change,
        }),
      );
      expect(e.code, key).toBe('INVALID_NUDGE');
      expect(e.keyPath).toEqual([key]);
    }
  });
});

describe('Nudge user experience escalates as the deadline nears', () => {
  // The last day before this deadline contains the end of DST in New York (25 wall-clock hours).
  const config = nudgeConfiguration({
    minimumVersion: '15.1.1',
    deadline: '2026-11-01T12:00',
    timeZone: 'America/New_York',
  });
  const deadline = config.osVersionRequirements[0]!.requiredInstallationDate.getTime();
  const at = (hoursBefore: number) => nudgeReminderAt(config, new Date(deadline - hoursBefore * 3_600_000));

  it('once a day while more than a day is left, every two hours in the last day, not dismissible after', () => {
    expect(at(72)).toEqual({ phase: 'initial', intervalSeconds: 86_400, dismissible: true });
    expect(at(24.01)).toEqual({ phase: 'initial', intervalSeconds: 86_400, dismissible: true });
    expect(at(24)).toEqual({ phase: 'imminent', intervalSeconds: 7_200, dismissible: true });
    expect(at(0.01)).toEqual({ phase: 'imminent', intervalSeconds: 7_200, dismissible: true });
    expect(at(0)).toEqual({ phase: 'elapsed', intervalSeconds: 300, dismissible: false });
    expect(at(-48).dismissible).toBe(false);
  });

  it('the last day is 24 real hours even when the wall clock shows 25 (DST ends inside it)', () => {
    // 2026-10-31T12:00 EDT is 16:00Z: 25 real hours before the deadline (17:00Z), so still daily.
    expect(nudgeReminderAt(config, new Date('2026-10-31T16:00:00Z')).phase).toBe('initial');
    expect(nudgeReminderAt(config, new Date('2026-10-31T17:00:00Z')).phase).toBe('imminent');
  });

  it('the Nudge keys that carry this', () => {
    expect(config.userExperience).toEqual({
      initialRefreshCycle: 86_400,
      approachingWindowTime: 24,
      approachingRefreshCycle: 7_200,
      imminentWindowTime: 24,
      imminentRefreshCycle: 7_200,
      elapsedRefreshCycle: 300,
    });
    expect(config.optionalFeatures.aggressiveUserExperience).toBe(true);
  });
});

describe('Nudge outputs', () => {
  const config = nudgeConfiguration({
    minimumVersion: '15.1.1',
    deadline: '2026-03-30T17:00',
    timeZone: 'Europe/Berlin',
    aboutUpdateUrl: 'https://support.apple.com/en-us/100100',
  });

  it('JSON: requiredInstallationDate in UTC with Z, whole seconds', () => {
    const json = JSON.parse(nudgeJson(config));
    expect(json.osVersionRequirements[0]).toEqual({
      requiredMinimumOSVersion: '15.1.1',
      requiredInstallationDate: '2026-03-30T15:00:00Z',
      targetedOSVersionsRule: 'default',
      aboutUpdateURL: 'https://support.apple.com/en-us/100100',
    });
    expect(json.userExperience.imminentRefreshCycle).toBe(7200);
  });

  it('profile payload for the Nudge domain, and the same keys as custom settings; both round-trip', () => {
    const domain = nudgePayload(config);
    expect(domain.payloadType).toBe(NUDGE_DOMAIN);
    const custom = nudgePayload(config, { form: 'custom-settings' });
    expect(custom.payloadType).toBe('com.apple.ManagedClient.preferences');
    const parsed = parseProfile(
      encodeProfile(buildProfile({ identifier: 'com.example.nudge', payloads: [domain, custom] })),
    );
    const [d, c] = parsed.payloads;
    expect(
      (d!.dict.osVersionRequirements as { requiredInstallationDate: Date }[])[0]!.requiredInstallationDate,
    ).toEqual(new Date('2026-03-30T15:00:00Z'));
    const settings = (
      c!.dict.PayloadContent as Record<string, { Forced: { mcx_preference_settings: unknown }[] }>
    )[NUDGE_DOMAIN]!.Forced[0]!.mcx_preference_settings;
    expect(settings).toEqual(
      d!.dict.osVersionRequirements && {
        osVersionRequirements: d!.dict.osVersionRequirements,
        userExperience: d!.dict.userExperience,
        optionalFeatures: d!.dict.optionalFeatures,
      },
    );
    expect(c!.valid).toBe(true);
    // The Nudge domain is not an Apple payload type: kept raw and listed, as every unknown type is.
    expect(d!.known).toBe(false);
  });
});
