import { parse, type PlistDict } from '@mdmkit/plist';
import { encodeCommand } from '@mdmkit/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index';
import { buildCommand, CommandError, getCommand, listRequestTypes, rawCommand } from '../src/index';
import { commandDefinitions } from '../src/schemas';
import { arbitraryFor, fuzzRuns } from './arbitrary';

const camel = (rt: string) => {
  const m = /^([A-Z]+)(?=[A-Z][a-z]|$)/.exec(rt);
  if (m && m[1]!.length > 1) return m[1]!.toLowerCase() + rt.slice(m[1]!.length);
  return rt[0]!.toLowerCase() + rt.slice(1);
};

describe('every command: build from a generated sample, encode, decode, validate', () => {
  it('the schema release has 66 commands', () => {
    expect(listRequestTypes()).toHaveLength(66);
  });

  for (const rt of listRequestTypes()) {
    it(rt, () => {
      const def = getCommand(rt);
      const builder = (api as unknown as Record<string, unknown>)[`${camel(rt)}Command`];
      expect(typeof builder).toBe('function');
      fc.assert(
        fc.property(arbitraryFor(def.payload), (payload) => {
          const cmd = (builder as (p: unknown, o?: unknown) => api.Command)(payload, {
            commandUUID: 'CMD-1',
          });
          const decoded = parse(encodeCommand(cmd), { reals: 'number' }) as PlistDict;
          expect(decoded.CommandUUID).toBe('CMD-1');
          const { RequestType, ...rest } = decoded.Command as PlistDict;
          expect(RequestType).toBe(rt);
          expect(rest).toEqual(payload);
          expect(def.payload.safeParse(rest).success).toBe(true);
        }),
        { numRuns: fuzzRuns, seed: 42 },
      );
    });
  }
});

describe('builders', () => {
  it('produce a Command with a fresh UUID, or the given one', () => {
    const a = api.deviceInformationCommand({ Queries: ['OSVersion', 'SerialNumber'] });
    const b = api.deviceInformationCommand({ Queries: ['OSVersion'] });
    expect(a.Command).toEqual({ RequestType: 'DeviceInformation', Queries: ['OSVersion', 'SerialNumber'] });
    expect(a.CommandUUID).not.toBe(b.CommandUUID);
    expect(api.eraseDeviceCommand({ PIN: '123456' }, { commandUUID: 'X' }).CommandUUID).toBe('X');
    expect(api.profileListCommand().Command.RequestType).toBe('ProfileList');
    const payload = new TextEncoder().encode('<plist/>');
    expect(api.installProfileCommand({ Payload: payload }).Command.Payload).toBe(payload);
    expect(
      api.rotateFileVaultKeyCommand({ KeyType: 'personal', FileVaultUnlock: { Password: 'p' } }).Command
        .KeyType,
    ).toBe('personal');
  });

  it('reject invalid payloads with INVALID_COMMAND and the key path', () => {
    const cases: [() => unknown, (string | number)[]][] = [
      [() => api.deviceInformationCommand({ Queries: ['NoSuchQuery' as never] }), ['Command', 'Queries', 0]],
      [() => api.installProfileCommand({} as never), ['Command', 'Payload']],
      [() => api.eraseDeviceCommand({ PIN: 123456 as never }), ['Command', 'PIN']],
      [
        () => api.settingsCommand({ Settings: [{ Item: 'Bluetooth', Enabled: 'yes' as never }] }),
        ['Command', 'Settings', 0, 'Enabled'],
      ],
    ];
    for (const [fn, path] of cases) {
      try {
        fn();
        throw new Error('expected failure');
      } catch (e) {
        expect(e).toBeInstanceOf(CommandError);
        expect((e as CommandError).code).toBe('INVALID_COMMAND');
        expect((e as CommandError).keyPath).toEqual(path);
      }
    }
  });

  it('Settings items are discriminated by Item (19 item types)', () => {
    const cmd = api.settingsCommand({
      Settings: [
        { Item: 'DeviceName', DeviceName: 'Lab iPad 7' },
        { Item: 'Bluetooth', Enabled: true },
        { Item: 'TimeZone', TimeZone: 'Europe/Paris' },
      ],
    });
    expect(cmd.Command.Settings).toHaveLength(3);
    expect(() => api.settingsCommand({ Settings: [{ Item: 'NoSuchItem' } as never] })).toThrow(CommandError);
    const def = commandDefinitions.Settings.payload as unknown as {
      _zod: {
        def: {
          shape: {
            Settings: {
              _zod: { def: { element: { _zod: { def: { options: unknown[]; discriminator: string } } } } };
            };
          };
        };
      };
    };
    const union = def._zod.def.shape.Settings._zod.def.element._zod.def;
    expect(union.discriminator).toBe('Item');
    expect(union.options).toHaveLength(19);
  });

  it('keeps unknown payload keys (loose objects)', () => {
    const cmd = api.deviceLockCommand({ Message: 'Lost', FutureKey: 1 } as never);
    expect((cmd.Command as unknown as Record<string, unknown>).FutureKey).toBe(1);
  });

  it('buildCommand looks up by RequestType; rawCommand is the escape hatch', () => {
    expect(buildCommand('DeviceLock', { PIN: '111111' }).Command).toEqual({
      RequestType: 'DeviceLock',
      PIN: '111111',
    });
    expect(() => buildCommand('FutureCommand', {})).toThrow(CommandError);
    const raw = rawCommand('FutureCommand', { Anything: [1, 'two'] });
    expect(parse(encodeCommand(raw))).toMatchObject({
      Command: { RequestType: 'FutureCommand', Anything: [1, 'two'] },
    });
  });
});
