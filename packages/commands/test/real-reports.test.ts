import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildXml } from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';
import { decodeReportFor } from '../src/index';

// Hand-written reports in the shapes real devices send (Apple's documentation and public captures),
// including the odd values they send: numbers beyond 2^53, strings where the schema says number,
// values a newer OS added. None of them may cost the server the report's CommandUUID and Status.
const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../test-fixtures/mdm');
const fixture = (name: string) => readFileSync(join(dir, `${name}.plist`));

describe('odd reports keep their envelope and come back raw with issues', () => {
  it('InstalledApplicationList with a BundleSize of 2^64-1 (parsed as bigint)', () => {
    const r = decodeReportFor(
      'InstalledApplicationList',
      fixture('report-installedapplicationlist-ios-huge-bundlesize'),
    );
    expect(r.envelope).toMatchObject({
      Status: 'Acknowledged',
      CommandUUID: '7F0B1C2D-3E4F-4A5B-8C6D-7E8F9A0B1C2D',
    });
    expect(r.enrollment.id).toBe('00008120-001C35A92E3A201E');
    expect(r.response).toBeUndefined();
    expect(r.responseIssues).toEqual([
      {
        path: ['InstalledApplicationList', 1, 'BundleSize'],
        expected: 'number',
        got: 'integer beyond 2^53 (bigint)',
        message: expect.any(String),
      },
    ]);
    expect(r.issues).toEqual(r.responseIssues);
    const apps = r.payload.InstalledApplicationList as Record<string, unknown>[];
    expect(apps[1]!.BundleSize).toBe(2n ** 64n - 1n);
    expect(apps[0]!.Identifier).toBe('com.example.notes');
  });

  it('DeviceInformation from a newer OS with DeviceCapacity sent as a string', () => {
    const r = decodeReportFor('DeviceInformation', fixture('report-deviceinformation-ios-newer-os'));
    expect(r.envelope.CommandUUID).toBe('A3B4C5D6-E7F8-4901-8A2B-3C4D5E6F7081');
    expect(r.response).toBeUndefined();
    expect(r.responseIssues.map((i) => [i.path.join('.'), i.expected, i.got])).toEqual([
      ['QueryResponses.DeviceCapacity', 'number', 'string'],
    ]);
    expect((r.payload.QueryResponses as Record<string, unknown>).SatelliteConnectivity).toEqual({
      Enabled: true,
    });
  });

  it('a wrong type deep inside a response names the key path, not the value', () => {
    const body = buildXml({
      CommandUUID: 'c',
      Status: 'Acknowledged',
      UDID: 'u',
      QueryResponses: { OSVersion: 14 },
    });
    const r = decodeReportFor('DeviceInformation', body);
    expect(r.envelope.CommandUUID).toBe('c');
    expect(r.responseIssues).toMatchObject([
      { path: ['QueryResponses', 'OSVersion'], expected: 'string', got: 'integer' },
    ]);
  });
});

describe("reports in real devices' shapes decode typed", () => {
  it('SecurityInfo (iOS, supervised, ADE)', () => {
    const r = decodeReportFor('SecurityInfo', fixture('report-securityinfo-ios'));
    expect(r.responseIssues).toEqual([]);
    expect(r.response?.SecurityInfo.ManagementStatus?.EnrolledViaDEP).toBe(true);
    expect(r.response?.SecurityInfo.HardwareEncryptionCaps).toBe(3);
  });

  it('AvailableOSUpdates (macOS)', () => {
    const r = decodeReportFor('AvailableOSUpdates', fixture('report-availableosupdates-macos'));
    expect(r.responseIssues).toEqual([]);
    expect(r.response?.AvailableOSUpdates[0]?.ProductKey).toBe('MSU_UPDATE_24B83_patch_15.1.1_minor');
  });

  it('ManagedApplicationList (iOS) with a status value newer than the schema', () => {
    const r = decodeReportFor('ManagedApplicationList', fixture('report-managedapplicationlist-ios'));
    expect(r.responseIssues).toEqual([]);
    expect(r.response?.ManagedApplicationList['com.example.newstate']?.Status).toBe(
      'AwaitingInstallOnDevice',
    );
  });
});
