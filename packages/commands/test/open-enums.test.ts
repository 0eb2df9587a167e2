import { buildXml, type PlistDict } from '@mdmkit/plist';
import { compileCheck, decodeCheckin, ProtocolError } from '@mdmkit/protocol';
import { describe, expect, it } from 'vitest';
import { decodeReportFor, getCommand, scheduleOSUpdate } from '../src/index';

const report = (extra: PlistDict) =>
  buildXml({ CommandUUID: 'CMD-1', Status: 'Acknowledged', UDID: 'UDID-1', ...extra });

function expectError(fn: () => unknown, code: string, keyPath: (string | number)[]) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe(code);
    expect((e as ProtocolError).keyPath).toEqual(keyPath);
    return;
  }
  throw new Error('expected a ProtocolError');
}

describe('enum values newer than the schema release', () => {
  it('DeviceInformation keeps unknown values of its enum keys', () => {
    const r = decodeReportFor(
      'DeviceInformation',
      report({
        QueryResponses: {
          ProductName: 'iPhone99,1',
          CellularTechnology: 9,
          AccessibilitySettings: { TextSize: 42, BoldTextEnabled: true },
        },
      }),
    );
    const q = r.response!.QueryResponses;
    expect(q.CellularTechnology).toBe(9);
    expect(q.AccessibilitySettings?.TextSize).toBe(42);
    expect(q.ProductName).toBe('iPhone99,1');
  });

  it('string enums in responses keep new values and still reject other types', () => {
    const r = decodeReportFor(
      'ScheduleOSUpdate',
      report({
        UpdateResults: [{ ProductKey: 'k', InstallAction: 'InstallTomorrow', Status: 'Teleporting' }],
      }),
    );
    expect(r.response!.UpdateResults[0]).toEqual({
      ProductKey: 'k',
      InstallAction: 'InstallTomorrow',
      Status: 'Teleporting',
    });
    const s = decodeReportFor(
      'SecurityInfo',
      report({ SecurityInfo: { SecureBoot: { SecureBootLevel: 'paranoid' } } }),
    );
    expect(s.response!.SecurityInfo.SecureBoot?.SecureBootLevel).toBe('paranoid');
    expectError(
      () =>
        decodeReportFor(
          'ScheduleOSUpdate',
          report({ UpdateResults: [{ ProductKey: 'k', InstallAction: 3, Status: 'Idle' }] }),
        ),
      'INVALID_MESSAGE',
      ['UpdateResults', 0, 'InstallAction'],
    );
    expectError(
      () => decodeReportFor('DeviceInformation', report({ QueryResponses: { CellularTechnology: 'LTE' } })),
      'INVALID_MESSAGE',
      ['QueryResponses', 'CellularTechnology'],
    );
  });

  it('a check-in message enum keeps a new value', () => {
    const m = decodeCheckin(
      buildXml({ MessageType: 'GetToken', UDID: 'u', TokenServiceType: 'com.apple.future' }),
    );
    if (m.messageType !== 'GetToken') throw new Error(`decoded as ${m.messageType}`);
    expect(m.message.TokenServiceType).toBe('com.apple.future');
  });

  it('command builders still reject values outside the schema', () => {
    const update = { ProductKey: 'k', InstallAction: 'InstallASAP' as const };
    expect(scheduleOSUpdate({ Updates: [update] }).Command.Updates[0]!.InstallAction).toBe('InstallASAP');
    expectError(
      () => scheduleOSUpdate({ Updates: [{ ...update, InstallAction: 'InstallTomorrow' as never }] }),
      'INVALID_COMMAND',
      ['Command', 'Updates', 0, 'InstallAction'],
    );
    expectError(
      () => scheduleOSUpdate({ Updates: [{ ...update, Priority: 'Medium' as never }] }),
      'INVALID_COMMAND',
      ['Command', 'Updates', 0, 'Priority'],
    );
  });

  it('the compiled checks agree: open for responses, closed for requests', () => {
    const def = getCommand('ScheduleOSUpdate');
    const response = { UpdateResults: [{ ProductKey: 'k', InstallAction: 'New', Status: 'New' }] };
    expect(compileCheck(def.response!)(response)).toBe(true);
    expect(def.response!.safeParse(response).success).toBe(true);
    const bad = { UpdateResults: [{ ProductKey: 'k', InstallAction: null, Status: 'Idle' }] };
    expect(compileCheck(def.response!)(bad)).toBe(false);
    expect(def.response!.safeParse(bad).success).toBe(false);
    const payload = { Updates: [{ InstallAction: 'New' }] };
    expect(compileCheck(def.payload)(payload)).toBe(false);
    expect(def.payload.safeParse(payload).success).toBe(false);
  });
});
