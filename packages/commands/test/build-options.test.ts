import { parse, type PlistDict } from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';
import {
  buildCommand,
  CommandError,
  encodeCommand,
  eraseDeviceCommand,
  scheduleOSUpdateCommand,
  settingsCommand,
  unchecked,
} from '../src/index';

function thrown(fn: () => unknown): CommandError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CommandError);
    return e as CommandError;
  }
  throw new Error('expected a CommandError');
}

describe('per-key availability when a builder is asked for a platform', () => {
  it('PIN of EraseDevice is macOS-only', () => {
    const e = thrown(() => eraseDeviceCommand({ PIN: '123456' }, { platform: { os: 'iOS' } }));
    expect(e.code).toBe('KEY_NOT_AVAILABLE');
    expect(e.keyPath).toEqual(['Command', 'PIN']);
    expect(e.issues).toMatchObject([{ path: ['Command', 'PIN'], expected: 'a key available on iOS' }]);
    expect(eraseDeviceCommand({ PIN: '123456' }, { platform: { os: 'macOS' } }).Command.PIN).toBe('123456');
    // Without a platform nothing is assumed.
    expect(eraseDeviceCommand({ PIN: '123456' }).Command.PIN).toBe('123456');
  });

  it('a key introduced in a later version is refused for an older one', () => {
    const payload = { ObliterationBehavior: 'DoNotObliterate' as const };
    const e = thrown(() => eraseDeviceCommand(payload, { platform: { os: 'macOS', version: '11.7' } }));
    expect(e.code).toBe('KEY_NOT_AVAILABLE');
    expect(e.message).toContain('macOS 12.0');
    expect(eraseDeviceCommand(payload, { platform: { os: 'macOS', version: '12.0' } })).toBeDefined();
    expect(eraseDeviceCommand(payload, { platform: { os: 'macOS' } })).toBeDefined();
  });

  it('lists every unavailable key and works through buildCommand', () => {
    const e = thrown(() =>
      buildCommand(
        'EraseDevice',
        { PIN: '1', ObliterationBehavior: 'Always', PreserveDataPlan: true },
        { platform: { os: 'iOS' } },
      ),
    );
    expect(e.issues.map((i) => i.path[1])).toEqual(['PIN', 'ObliterationBehavior']);
  });
});

describe('per-key availability of keys inside arrays and dictionaries', () => {
  it('MaxUserDeferrals of a ScheduleOSUpdate update is macOS-only', () => {
    const payload = {
      Updates: [
        { ProductKey: 'a', InstallAction: 'Default' as const },
        { ProductKey: 'b', InstallAction: 'Default' as const, MaxUserDeferrals: 3 },
      ],
    };
    const e = thrown(() => scheduleOSUpdateCommand(payload, { platform: { os: 'iOS' } }));
    expect(e.code).toBe('KEY_NOT_AVAILABLE');
    expect(e.keyPath).toEqual(['Command', 'Updates', 1, 'MaxUserDeferrals']);
    expect(scheduleOSUpdateCommand(payload, { platform: { os: 'macOS', version: '12.0' } })).toBeDefined();
    const old = thrown(() =>
      scheduleOSUpdateCommand(payload, { platform: { os: 'macOS', version: '11.7' } }),
    );
    expect(old.keyPath).toEqual(['Command', 'Updates', 1, 'MaxUserDeferrals']);
  });
});

describe('unchecked(): enum values newer than the pinned schema release', () => {
  it('sends the marked value as is and still validates the rest', () => {
    const cmd = scheduleOSUpdateCommand(
      { Updates: [{ ProductKey: 'k', InstallAction: unchecked('InstallTonight') }] },
      { commandUUID: 'C-1' },
    );
    expect(cmd.Command.Updates[0]!.InstallAction).toBe('InstallTonight');
    const decoded = parse(encodeCommand(cmd)) as PlistDict;
    expect((decoded.Command as PlistDict).Updates).toEqual([
      { ProductKey: 'k', InstallAction: 'InstallTonight' },
    ]);
    const e = thrown(() =>
      scheduleOSUpdateCommand({
        Updates: [{ ProductKey: 7 as never, InstallAction: unchecked('InstallTonight') }],
      }),
    );
    expect(e.code).toBe('INVALID_COMMAND');
    expect(e.keyPath).toEqual(['Command', 'Updates', 0, 'ProductKey']);
  });

  it('without the marker the same value is refused', () => {
    const e = thrown(() =>
      scheduleOSUpdateCommand({ Updates: [{ ProductKey: 'k', InstallAction: 'InstallTonight' as never }] }),
    );
    expect(e.keyPath).toEqual(['Command', 'Updates', 0, 'InstallAction']);
  });

  it('cannot choose a union member (a Settings item type)', () => {
    const e = thrown(() => settingsCommand({ Settings: [{ Item: unchecked('FutureItem') }] }));
    expect(e.code).toBe('INVALID_COMMAND');
  });

  it("leaves the caller's payload untouched", () => {
    const update = { ProductKey: 'k', InstallAction: unchecked('Later') };
    const payload = { Updates: [update] };
    scheduleOSUpdateCommand(payload);
    expect(payload.Updates[0]).toBe(update);
    expect(typeof update.InstallAction).toBe('object');
  });
});

describe('unchecked() marks leaves only', () => {
  it('refuses a container, so a whole subtree cannot skip the schema', () => {
    for (const v of [[{ bogus: 1 }], { not: 'a pin' }, null, undefined, 1n, Number.NaN]) {
      const e = thrown(() => unchecked(v as never));
      expect(e.code).toBe('INVALID_ARGUMENT');
    }
    expect(() =>
      scheduleOSUpdateCommand({ Updates: [{ ProductKey: 'k', InstallAction: unchecked('Later') }] }),
    ).not.toThrow();
  });
});

describe('the platform a builder is asked for', () => {
  it('is refused when it names no OS the schemas know (a wrong spelling would check nothing)', () => {
    const e = thrown(() => eraseDeviceCommand({ PIN: '123456' }, { platform: { os: 'ios' as never } }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.keyPath).toEqual(['platform', 'os']);
  });
});
