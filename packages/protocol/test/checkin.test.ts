import { buildBinary, buildXml, type PlistDict } from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';
import { decodeCheckin, isMdmkitError, ProtocolError } from '../src/index';
import { fixture } from './fixtures';

const token = new Uint8Array([1, 2, 3, 4]);
const xml = (d: PlistDict) => buildXml(d);

function expectProtocolError(fn: () => unknown, code: string, keyPath?: (string | number)[]): ProtocolError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect(isMdmkitError(e)).toBe(true);
    const pe = e as ProtocolError;
    expect(pe.code).toBe(code);
    if (keyPath) expect(pe.keyPath).toEqual(keyPath);
    return pe;
  }
  throw new Error('expected a ProtocolError');
}

describe('decodeCheckin fixtures', () => {
  it('Authenticate, macOS device channel', () => {
    const c = decodeCheckin(fixture('authenticate-macos-device'));
    expect(c.messageType).toBe('Authenticate');
    if (c.messageType !== 'Authenticate') return;
    expect(c.message.SerialNumber).toBe('C02XK1ABMD6T');
    expect(c.message.Model).toBe('Mac15,6');
    expect(c.enrollment).toEqual({
      id: '5A3C9E21-7B4D-5F60-8A1B-2C3D4E5F6071',
      type: 'device',
      deviceId: '5A3C9E21-7B4D-5F60-8A1B-2C3D4E5F6071',
      userChannel: false,
    });
  });

  it('Authenticate, iOS device channel and User Enrollment', () => {
    const ios = decodeCheckin(fixture('authenticate-ios-device'));
    expect(ios.enrollment).toMatchObject({ id: '00008110-001A2B3C4D5E801E', type: 'device' });
    const ue = decodeCheckin(fixture('authenticate-ios-user-enrollment'));
    expect(ue.enrollment).toMatchObject({
      id: 'b318edb72b556059a013368e3150050c5f74a2c6',
      type: 'user-enrollment-device',
    });
    expect(ue.message.UDID).toBeUndefined();
  });

  it('TokenUpdate on macOS device and user channels', () => {
    const dev = decodeCheckin(fixture('tokenupdate-macos-device'));
    expect(dev.messageType).toBe('TokenUpdate');
    if (dev.messageType !== 'TokenUpdate') return;
    expect(dev.message.Token).toBeInstanceOf(Uint8Array);
    expect(dev.message.Token.length).toBe(32);
    expect(dev.enrollment.type).toBe('device');

    const user = decodeCheckin(fixture('tokenupdate-macos-user'));
    if (user.messageType !== 'TokenUpdate') throw new Error('wrong type');
    expect(user.message.NotOnConsole).toBe(false);
    expect(user.message.UserShortName).toBe('dana');
    expect(user.enrollment).toEqual({
      id: '5A3C9E21-7B4D-5F60-8A1B-2C3D4E5F6071:F151140B-3988-45A9-9471-E96B49F27D93',
      type: 'user',
      deviceId: '5A3C9E21-7B4D-5F60-8A1B-2C3D4E5F6071',
      userChannel: true,
    });
    const ue = decodeCheckin(fixture('tokenupdate-macos-user-enrollment-user'));
    expect(ue.enrollment).toMatchObject({
      id: 'b318edb72b556059a013368e3150050c5f74a2c6:7e6c3a9d2f1b4e8a',
      type: 'user-enrollment-user',
    });
  });

  it('TokenUpdate on iOS device channel and Shared iPad user channel', () => {
    const dev = decodeCheckin(fixture('tokenupdate-ios-device'));
    if (dev.messageType !== 'TokenUpdate') throw new Error('wrong type');
    expect(dev.message.UnlockToken?.length).toBe(48);
    expect(dev.message.AwaitingConfiguration).toBe(true);
    const shared = decodeCheckin(fixture('tokenupdate-ios-shared-ipad-user'));
    expect(shared.enrollment).toEqual({
      id: '00008027-000C1D2E3F4A502E:sam.student@school.example',
      type: 'shared-ipad-user',
      deviceId: '00008027-000C1D2E3F4A502E',
      userChannel: true,
    });
  });
});

describe('decodeCheckin for every MessageType', () => {
  const udid = 'UDID-1';
  const cases: [string, PlistDict][] = [
    ['CheckOut', { MessageType: 'CheckOut', Topic: 'com.apple.mgmt.x', UDID: udid }],
    ['UserAuthenticate', { MessageType: 'UserAuthenticate', UDID: udid, UserID: 'U-1' }],
    ['SetBootstrapToken', { MessageType: 'SetBootstrapToken', UDID: udid, BootstrapToken: token }],
    ['GetBootstrapToken', { MessageType: 'GetBootstrapToken', UDID: udid, AwaitingConfiguration: true }],
    ['DeclarativeManagement', { MessageType: 'DeclarativeManagement', UDID: udid, Endpoint: 'tokens' }],
    [
      'GetToken',
      { MessageType: 'GetToken', UDID: udid, TokenServiceType: 'com.apple.maid', TokenParameters: {} },
    ],
  ];
  for (const [type, dict] of cases) {
    it(`${type} decodes from XML and binary plists`, () => {
      for (const body of [xml(dict), buildBinary(dict)]) {
        const c = decodeCheckin(body);
        expect(c.messageType).toBe(type);
        expect(c.enrollment.id).toBe(c.messageType === 'UserAuthenticate' ? `${udid}:U-1` : udid);
      }
    });
  }

  it('UserAuthenticate carries DigestResponse only in the second message', () => {
    const second = decodeCheckin(
      xml({ MessageType: 'UserAuthenticate', UDID: udid, UserID: 'U-1', DigestResponse: 'abc' }),
    );
    if (second.messageType !== 'UserAuthenticate') throw new Error('wrong type');
    expect(second.message.DigestResponse).toBe('abc');
  });

  it('keeps keys a newer OS adds, in the message and in raw', () => {
    const c = decodeCheckin(
      xml({ MessageType: 'CheckOut', Topic: 't', UDID: udid, NewKey2030: { Nested: 1 } }),
    );
    expect((c.message as Record<string, unknown>).NewKey2030).toEqual({ Nested: 1 });
    expect(c.raw.NewKey2030).toEqual({ Nested: 1 });
  });

  it('surfaces an unknown MessageType as the Unknown variant', () => {
    const c = decodeCheckin(xml({ MessageType: 'FutureCheckin', UDID: udid, Extra: true }));
    expect(c.messageType).toBe('Unknown');
    if (c.messageType !== 'Unknown') return;
    expect(c.rawMessageType).toBe('FutureCheckin');
    expect(c.enrollment.id).toBe(udid);
    expect(c.raw.Extra).toBe(true);
  });
});

describe('decodeCheckin errors', () => {
  it('missing required key gives INVALID_MESSAGE with its key path', () => {
    const e = expectProtocolError(
      () => decodeCheckin(xml({ MessageType: 'TokenUpdate', UDID: 'x', Topic: 't', Token: token })),
      'INVALID_MESSAGE',
      ['PushMagic'],
    );
    expect(e.message).toContain('PushMagic');
  });

  it('wrong type gives INVALID_MESSAGE with its key path', () => {
    expectProtocolError(
      () =>
        decodeCheckin(
          xml({ MessageType: 'TokenUpdate', UDID: 'x', Topic: 't', Token: 'nope', PushMagic: 'p' }),
        ),
      'INVALID_MESSAGE',
      ['Token'],
    );
    expectProtocolError(
      () => decodeCheckin(xml({ MessageType: 'CheckOut', Topic: 't', UDID: 7 })),
      'INVALID_MESSAGE',
      ['UDID'],
    );
  });

  it('a GetToken with a service type newer than the schemas is kept; a non-string is rejected', () => {
    const m = decodeCheckin(
      xml({ MessageType: 'GetToken', UDID: 'x', TokenServiceType: 'com.example.other' }),
    );
    if (m.messageType !== 'GetToken') throw new Error(`decoded as ${m.messageType}`);
    expect(m.message.TokenServiceType).toBe('com.example.other');
    expectProtocolError(
      () => decodeCheckin(xml({ MessageType: 'GetToken', UDID: 'x', TokenServiceType: 3 })),
      'INVALID_MESSAGE',
      ['TokenServiceType'],
    );
  });

  it('missing MessageType, missing identity, and non-plist bodies', () => {
    expectProtocolError(() => decodeCheckin(xml({ UDID: 'x' })), 'INVALID_MESSAGE', ['MessageType']);
    expectProtocolError(
      () => decodeCheckin(xml({ MessageType: 'CheckOut', Topic: 't' })),
      'MISSING_IDENTITY',
    );
    expectProtocolError(() => decodeCheckin('<plist><dict><key>a</key>'), 'INVALID_PLIST');
    expectProtocolError(() => decodeCheckin(new Uint8Array([0, 1, 2])), 'INVALID_PLIST');
    expectProtocolError(() => decodeCheckin(xml(['not', 'a', 'dict'] as never)), 'INVALID_PLIST');
  });

  it('error messages do not echo values (they may be secrets)', () => {
    const e = expectProtocolError(
      () =>
        decodeCheckin(
          xml({
            MessageType: 'TokenUpdate',
            UDID: 'x',
            Topic: 't',
            Token: 'SECRET-VALUE-123',
            PushMagic: 'p',
          }),
        ),
      'INVALID_MESSAGE',
    );
    expect(e.message).not.toContain('SECRET-VALUE-123');
  });
});
