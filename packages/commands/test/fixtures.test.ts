import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildXml } from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';
import { decodeReportFor } from '../src/index';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../test-fixtures/mdm');
const fixture = (name: string) => readFileSync(join(dir, `${name}.plist`));

describe('hand-written device reports decode with their command schemas', () => {
  it('DeviceInformation (macOS), keeping a key no schema names', () => {
    const r = decodeReportFor('DeviceInformation', fixture('report-deviceinformation-macos'));
    const q = r.response!.QueryResponses;
    expect(q.OSVersion).toBe('14.7.1');
    expect(q.BatteryLevel).toBeCloseTo(0.87);
    expect(q.IsAppleSilicon).toBe(true);
    expect(q.OSUpdateSettings?.PreviousScanDate).toEqual(new Date('2024-11-20T08:14:03Z'));
    expect(q.ActiveManagedUsers).toEqual(['F151140B-3988-45A9-9471-E96B49F27D93']);
    expect((q as Record<string, unknown>).FutureOSKey).toBe('kept as-is');
  });

  it('SecurityInfo with FileVault escrow keys', () => {
    const r = decodeReportFor('SecurityInfo', fixture('report-securityinfo-macos-fde'));
    const s = r.response!.SecurityInfo;
    expect(s.FDE_Enabled).toBe(true);
    expect(s.FDE_HasPersonalRecoveryKey).toBe(true);
    expect(s.FDE_PersonalRecoveryKeyCMS).toBeInstanceOf(Uint8Array);
    // A DER SEQUENCE (CMS EnvelopedData).
    expect(s.FDE_PersonalRecoveryKeyCMS![0]).toBe(0x30);
    expect(s.SecureBoot?.SecureBootLevel).toBe('full');
    expect(s.FirewallSettings?.Applications?.[0]?.BundleID).toBe('com.apple.screensharing.agent');
  });

  it('ProfileList (iOS)', () => {
    const r = decodeReportFor('ProfileList', fixture('report-profilelist-ios'));
    const list = r.response!.ProfileList;
    expect(list.map((p) => p.PayloadIdentifier)).toEqual([
      'com.example.mdm.enroll',
      'com.example.wifi.office',
    ]);
    expect(list[0]!.PayloadContent?.map((p) => p.PayloadType)).toEqual([
      'com.apple.mdm',
      'com.apple.security.scep',
    ]);
    expect(list[0]!.SignerCertificates?.[0]?.[0]).toBe(0x30);
  });

  it('InstalledApplicationList (macOS)', () => {
    const r = decodeReportFor('InstalledApplicationList', fixture('report-installedapplicationlist-macos'));
    const apps = r.response!.InstalledApplicationList;
    expect(apps).toHaveLength(8);
    expect(apps.find((a) => a.Identifier === 'com.apple.dt.Xcode')?.BundleSize).toBe(12035637248);
  });

  it('CertificateList (macOS)', () => {
    const r = decodeReportFor('CertificateList', fixture('report-certificatelist-macos'));
    expect(r.response!.CertificateList[0]).toMatchObject({
      CommonName: 'Example MDM Identity',
      IsIdentity: true,
    });
  });

  it('NotNow and Error reports carry no typed response', () => {
    const notNow = decodeReportFor('DeviceInformation', fixture('report-notnow-ios'));
    expect(notNow.envelope.Status).toBe('NotNow');
    expect(notNow.response).toBeUndefined();
    const err = decodeReportFor('InstallProfile', fixture('report-error-installprofile-macos'));
    expect(err.envelope.ErrorChain).toHaveLength(2);
    expect(err.response).toBeUndefined();
  });

  it('a RequestType no schema describes is UNKNOWN_COMMAND', () => {
    const body = buildXml({ CommandUUID: 'c', Status: 'Acknowledged', UDID: 'u' });
    expect(() => decodeReportFor('NoSuchCommand' as never, body)).toThrow(/no schema/);
  });
});

describe('wildcard-keyed dictionaries', () => {
  it('ManagedApplicationList is keyed by bundle identifier; macOS omits iOS-only keys', () => {
    const apps = {
      'com.example.app': {
        Status: 'Managed',
        ManagementFlags: 1,
        HasConfiguration: false,
        HasFeedback: false,
      },
      'com.example.other': { Status: 'Installing', ManagementFlags: 0 },
    };
    const r = decodeReportFor(
      'ManagedApplicationList',
      buildXml({ CommandUUID: 'c', Status: 'Acknowledged', UDID: 'u', ManagedApplicationList: apps }),
    );
    expect(r.response?.ManagedApplicationList['com.example.app']?.Status).toBe('Managed');
  });
});

describe('schema errata', () => {
  it('Settings reports decode with per-item results as an array or as one dictionary', () => {
    const item = { Item: 'DeviceName', Status: 'Acknowledged' };
    for (const Settings of [
      [item, { Status: 'Error', ErrorChain: [{ ErrorCode: 12, ErrorDomain: 'x' }] }],
      item,
    ]) {
      const r = decodeReportFor(
        'Settings',
        buildXml({ CommandUUID: 'c', Status: 'Acknowledged', UDID: 'u', Settings }),
      );
      expect(r.response?.Settings).toEqual(Settings);
    }
  });
});
