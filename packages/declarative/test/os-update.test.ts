import { describe, expect, it } from 'vitest';
import {
  activationSimple,
  createDeclarationSet,
  localDateTimeIn,
  OS_UPDATE_IDENTIFIER,
  osUpdateEnforcement,
  osUpdatePath,
  parseStatusReport,
  SoftwareUpdateEnforcementSpecificPayloadSchema,
} from '../src/index';
import { caught } from './caught';

describe('osUpdateEnforcement', () => {
  it('builds softwareupdate.enforcement.specific from { minimumVersion, deadline }', () => {
    const d = osUpdateEnforcement({ minimumVersion: '17.5', deadline: '2026-12-15T18:00:00' });
    expect(d.Type).toBe('com.apple.configuration.softwareupdate.enforcement.specific');
    expect(d.Identifier).toBe(OS_UPDATE_IDENTIFIER);
    expect(d.Payload).toEqual({ TargetOSVersion: '17.5', TargetLocalDateTime: '2026-12-15T18:00:00' });
    expect(SoftwareUpdateEnforcementSpecificPayloadSchema.safeParse(d.Payload).success).toBe(true);
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
    // It goes into a set with the activation that installs it.
    const set = createDeclarationSet([
      d,
      activationSimple({ StandardConfigurations: [d.Identifier] }, { identifier: 'a' }),
    ]);
    expect(set.declarationItems().Declarations.Configurations).toEqual([
      { Identifier: d.Identifier, ServerToken: d.ServerToken },
    ]);
  });

  it('passes build version and details URL through', () => {
    const d = osUpdateEnforcement({
      minimumVersion: '14.6.1',
      deadline: '2026-12-15T18:00:00',
      buildVersion: '23G93',
      detailsURL: 'https://it.example.com/updates',
      identifier: 'mac-update',
    });
    expect(d.Payload).toEqual({
      TargetOSVersion: '14.6.1',
      TargetLocalDateTime: '2026-12-15T18:00:00',
      TargetBuildVersion: '23G93',
      DetailsURL: 'https://it.example.com/updates',
    });
    expect(d.Identifier).toBe('mac-update');
  });

  it('turns an instant into the wall-clock time of a zone, across daylight saving', () => {
    expect(localDateTimeIn(new Date('2026-12-15T17:00:00Z'), 'Europe/Berlin')).toBe('2026-12-15T18:00:00');
    expect(localDateTimeIn(new Date('2026-07-15T17:00:00Z'), 'Europe/Berlin')).toBe('2026-07-15T19:00:00');
    expect(localDateTimeIn(new Date('2026-12-15T05:30:00Z'), 'America/Los_Angeles')).toBe(
      '2026-12-14T21:30:00',
    );
    expect(localDateTimeIn(new Date('2026-12-31T23:59:59Z'), 'UTC')).toBe('2026-12-31T23:59:59');
    // Midnight is 00, never 24.
    expect(localDateTimeIn(new Date('2026-12-15T23:00:00Z'), 'Europe/Berlin')).toBe('2026-12-16T00:00:00');
    const d = osUpdateEnforcement({
      minimumVersion: '17.5',
      deadline: { at: new Date('2026-12-15T17:00:00Z'), timeZone: 'Europe/Berlin' },
    });
    expect(d.Payload.TargetLocalDateTime).toBe('2026-12-15T18:00:00');
  });

  it('refuses what the device could not read, with INVALID_OS_UPDATE', () => {
    const bad: [string, unknown][] = [
      ['version with letters', { minimumVersion: '17.5b', deadline: '2026-12-15T18:00:00' }],
      ['four-part version', { minimumVersion: '1.2.3.4', deadline: '2026-12-15T18:00:00' }],
      ['offset in the deadline', { minimumVersion: '17.5', deadline: '2026-12-15T18:00:00Z' }],
      ['date only', { minimumVersion: '17.5', deadline: '2026-12-15' }],
      ['30 February', { minimumVersion: '17.5', deadline: '2026-02-30T18:00:00' }],
      ['hour 24', { minimumVersion: '17.5', deadline: '2026-12-15T24:00:00' }],
      ['a bare Date', { minimumVersion: '17.5', deadline: new Date() }],
      ['unknown zone', { minimumVersion: '17.5', deadline: { at: new Date(), timeZone: 'Mars/Olympus' } }],
      ['invalid Date', { minimumVersion: '17.5', deadline: { at: new Date(Number.NaN), timeZone: 'UTC' } }],
      // Instants whose year has no four-digit form: year 10000, and years before the common era.
      [
        'year 10000',
        { minimumVersion: '17.5', deadline: { at: new Date('+010000-01-01T00:00:00Z'), timeZone: 'UTC' } },
      ],
      [
        'year 2 BC',
        { minimumVersion: '17.5', deadline: { at: new Date('-000001-06-01T00:00:00Z'), timeZone: 'UTC' } },
      ],
    ];
    for (const [what, input] of bad) {
      expect(caught(() => osUpdateEnforcement(input as never)).code, what).toBe('INVALID_OS_UPDATE');
    }
    expect(
      osUpdateEnforcement({ minimumVersion: '17.5', deadline: '2028-02-29T00:00:00' }).Payload
        .TargetLocalDateTime,
    ).toBe('2028-02-29T00:00:00');
  });
});

describe('osUpdatePath', () => {
  it('a device on the minimum version or later needs nothing', () => {
    expect(osUpdatePath({ os: 'macOS', osVersion: '14.6.1' }, '14.6.1').path).toBe('up-to-date');
    expect(osUpdatePath({ os: 'iOS', osVersion: '18.0' }, '17.5').path).toBe('up-to-date');
    expect(osUpdatePath({ os: 'iOS', osVersion: '17.5' }, '17.5.0').path).toBe('up-to-date');
  });

  it('decides from the OS version when capabilities are unknown', () => {
    expect(osUpdatePath({ os: 'macOS', osVersion: '14.2', enrollment: 'supervised' }, '14.6.1')).toEqual({
      path: 'declaration',
      reason: 'os-version',
    });
    expect(osUpdatePath({ os: 'macOS', osVersion: '13.6.7', enrollment: 'supervised' }, '14.6.1')).toEqual({
      path: 'nudge',
      reason: 'os-version',
    });
    expect(osUpdatePath({ os: 'iOS', osVersion: '16.7.8' }, '17.5')).toEqual({
      path: 'mdm-command',
      reason: 'os-version',
    });
    expect(osUpdatePath({ os: 'iPadOS', osVersion: '17.1' }, '17.5').path).toBe('declaration');
  });

  it('follows the enrollments the schema allows: a Mac that is not supervised gets Nudge', () => {
    expect(osUpdatePath({ os: 'macOS', osVersion: '14.2', enrollment: 'user' }, '14.6.1')).toEqual({
      path: 'nudge',
      reason: 'enrollment',
    });
    expect(osUpdatePath({ os: 'iOS', osVersion: '17.1', enrollment: 'device' }, '17.5').path).toBe(
      'declaration',
    );
    // ScheduleOSUpdate is forbidden in user enrollment, so nothing can enforce the update there.
    expect(osUpdatePath({ os: 'iOS', osVersion: '17.1', enrollment: 'user' }, '17.5')).toEqual({
      path: 'none',
      reason: 'enrollment',
    });
  });

  it('offers the ScheduleOSUpdate command only where its schema allows it: supervised iOS and tvOS', () => {
    expect(osUpdatePath({ os: 'iOS', osVersion: '16.7.8', enrollment: 'supervised' }, '17.5').path).toBe(
      'mdm-command',
    );
    expect(osUpdatePath({ os: 'iOS', osVersion: '16.7.8', enrollment: 'device' }, '17.5')).toEqual({
      path: 'none',
      reason: 'os-version',
    });
    expect(osUpdatePath({ os: 'tvOS', osVersion: '17.0', enrollment: 'device' }, '18.0').path).toBe('none');
    expect(osUpdatePath({ os: 'watchOS', osVersion: '10.0' }, '11.0')).toEqual({
      path: 'none',
      reason: 'os',
    });
    expect(osUpdatePath({ os: 'visionOS', osVersion: '1.1', enrollment: 'supervised' }, '2.0').path).toBe(
      'none',
    );
  });

  it('OSes without the declaration take the command path', () => {
    expect(osUpdatePath({ os: 'tvOS', osVersion: '17.0' }, '18.0')).toEqual({
      path: 'mdm-command',
      reason: 'os',
    });
  });

  it("reads OS, version and the device's own capabilities from its status report", () => {
    const caps = (configurations: string[]) => ({
      'supported-versions': ['1.0.0'],
      'supported-features': {},
      'supported-payloads': { declarations: { configurations }, 'status-items': [] },
    });
    const status = (configurations: string[]) =>
      parseStatusReport(
        JSON.stringify({
          StatusItems: {
            device: { 'operating-system': { family: 'macOS', version: '14.1' } },
            management: { 'client-capabilities': caps(configurations) },
          },
          Errors: [],
        }),
      );
    expect(
      osUpdatePath(
        {
          status: status(['com.apple.configuration.softwareupdate.enforcement.specific']),
          enrollment: 'supervised',
        },
        '14.6.1',
      ),
    ).toEqual({ path: 'declaration', reason: 'capabilities' });
    expect(osUpdatePath({ status: status(['com.apple.configuration.passcode.settings']) }, '14.6.1')).toEqual(
      {
        path: 'nudge',
        reason: 'capabilities',
      },
    );
    // Capabilities from an earlier report count when this one lacks them.
    expect(
      osUpdatePath(
        {
          os: 'macOS',
          osVersion: '14.1',
          capabilities: caps(['com.apple.configuration.softwareupdate.enforcement.specific']),
        },
        '14.6.1',
      ).reason,
    ).toBe('capabilities');
  });

  it('unknown or malformed OS facts are INVALID_OS_UPDATE', () => {
    expect(caught(() => osUpdatePath({ os: 'macOS' }, '14.6.1')).code).toBe('INVALID_OS_UPDATE');
    expect(caught(() => osUpdatePath({ osVersion: '14.1' }, '14.6.1')).code).toBe('INVALID_OS_UPDATE');
    expect(caught(() => osUpdatePath({ os: 'Windows' as never, osVersion: '11' }, '14.6.1')).code).toBe(
      'INVALID_OS_UPDATE',
    );
    expect(caught(() => osUpdatePath({ os: 'macOS', osVersion: '14.1' }, 'latest')).code).toBe(
      'INVALID_OS_UPDATE',
    );
    // Names of Object.prototype members are not OS names (a status report's family is device input).
    for (const os of ['constructor', 'toString', '__proto__']) {
      expect(caught(() => osUpdatePath({ os: os as never, osVersion: '1.0' }, '14.6.1')).code, os).toBe(
        'INVALID_OS_UPDATE',
      );
    }
  });
});
