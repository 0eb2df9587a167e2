/** The platforms a virtual device models. */
export type DevicePlatform = 'macOS' | 'iOS' | 'iPadOS';

/** The fixed facts of a modelled device: what Authenticate and DeviceInformation say about it. */
export interface DeviceModel {
  platform: DevicePlatform;
  productName: string;
  model: string;
  modelName: string;
  osVersion: string;
  buildVersion: string;
  /** DeviceInformation keys this platform answers beyond the common ones. */
  extraInformation: Record<string, string | number | boolean>;
  /** The SecurityInfo dictionary this platform answers with. */
  securityInfo: Record<string, unknown>;
  /** Applications InstalledApplicationList reports. */
  applications: {
    Identifier: string;
    Name: string;
    ShortVersion: string;
    Version: string;
    BundleSize: number;
  }[];
}

/** What differs between the three platforms' answers (values as recent hardware reports them). */
export const DEVICE_MODELS: Readonly<Record<DevicePlatform, DeviceModel>> = {
  macOS: {
    platform: 'macOS',
    productName: 'Mac14,2',
    model: 'Mac14,2',
    modelName: 'MacBook Air',
    osVersion: '15.1',
    buildVersion: '24B83',
    extraInformation: {
      IsAppleSilicon: true,
      SystemIntegrityProtectionEnabled: true,
      IsMultiUser: true,
      EthernetMAC: '00:00:00:00:00:00',
    },
    securityInfo: {
      FDE_Enabled: true,
      FDE_HasPersonalRecoveryKey: true,
      FDE_HasInstitutionalRecoveryKey: false,
      SystemIntegrityProtectionEnabled: true,
      FirewallSettings: { FirewallEnabled: true, BlockAllIncoming: false, StealthMode: false },
      SecureBoot: { SecureBootLevel: 'full' },
      AuthenticatedRootVolumeEnabled: true,
      IsRecoveryLockEnabled: false,
    },
    applications: [
      {
        Identifier: 'com.apple.Safari',
        Name: 'Safari',
        ShortVersion: '18.1',
        Version: '20619.2.8',
        BundleSize: 14_000_000,
      },
      {
        Identifier: 'com.apple.dt.Xcode',
        Name: 'Xcode',
        ShortVersion: '16.1',
        Version: '23503',
        BundleSize: 11_000_000_000,
      },
    ],
  },
  iOS: {
    platform: 'iOS',
    productName: 'iPhone15,2',
    model: 'MQ0T3',
    modelName: 'iPhone',
    osVersion: '18.1',
    buildVersion: '22B83',
    extraInformation: { IMEI: '35 000000 000000 0', BatteryLevel: 0.8, IsMultiUser: false },
    securityInfo: {
      HardwareEncryptionCaps: 3,
      PasscodePresent: true,
      PasscodeCompliant: true,
      PasscodeCompliantWithProfiles: true,
    },
    applications: [
      {
        Identifier: 'com.apple.mobilesafari',
        Name: 'Safari',
        ShortVersion: '18.1',
        Version: '8620',
        BundleSize: 0,
      },
      {
        Identifier: 'com.example.app',
        Name: 'Example',
        ShortVersion: '1.2',
        Version: '120',
        BundleSize: 52_000_000,
      },
    ],
  },
  iPadOS: {
    platform: 'iPadOS',
    productName: 'iPad14,3',
    model: 'MNXD3',
    modelName: 'iPad Pro',
    osVersion: '18.1',
    buildVersion: '22B83',
    extraInformation: { BatteryLevel: 0.6, IsMultiUser: false },
    securityInfo: {
      HardwareEncryptionCaps: 3,
      PasscodePresent: false,
      PasscodeCompliant: true,
      PasscodeCompliantWithProfiles: true,
    },
    applications: [
      {
        Identifier: 'com.apple.mobilesafari',
        Name: 'Safari',
        ShortVersion: '18.1',
        Version: '8620',
        BundleSize: 0,
      },
    ],
  },
};
