import { buildXml, type PlistDict } from '@mdmkit/plist';
import { decodeCheckin } from '@mdmkit/protocol';
import { compileCheck } from '@mdmkit/protocol/schema';
import { describe, expect, it } from 'vitest';
import { CommandError, decodeReportFor, getCommand, scheduleOSUpdateCommand } from '../src/index';

const report = (extra: PlistDict) =>
  buildXml({ CommandUUID: 'CMD-1', Status: 'Acknowledged', UDID: 'UDID-1', ...extra });

function expectError(fn: () => unknown, code: string, keyPath: (string | number)[]) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CommandError);
    expect((e as CommandError).code).toBe(code);
    expect((e as CommandError).keyPath).toEqual(keyPath);
    return;
  }
  throw new Error('expected a CommandError');
}

function expectIssue(report: { response?: unknown; responseIssues: { path: unknown[] }[] }, path: unknown[]) {
  expect(report.response).toBeUndefined();
  expect(report.responseIssues.map((i) => i.path)).toEqual([path]);
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

  it('string enums in responses keep new values; other types are listed as issues', () => {
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
    expectIssue(
      decodeReportFor(
        'ScheduleOSUpdate',
        report({ UpdateResults: [{ ProductKey: 'k', InstallAction: 3, Status: 'Idle' }] }),
      ),
      ['UpdateResults', 0, 'InstallAction'],
    );
    expectIssue(
      decodeReportFor('DeviceInformation', report({ QueryResponses: { CellularTechnology: 'LTE' } })),
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
    expect(scheduleOSUpdateCommand({ Updates: [update] }).Command.Updates[0]!.InstallAction).toBe(
      'InstallASAP',
    );
    expectError(
      () => scheduleOSUpdateCommand({ Updates: [{ ...update, InstallAction: 'InstallTomorrow' as never }] }),
      'INVALID_COMMAND',
      ['Command', 'Updates', 0, 'InstallAction'],
    );
    expectError(
      () => scheduleOSUpdateCommand({ Updates: [{ ...update, Priority: 'Medium' as never }] }),
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
