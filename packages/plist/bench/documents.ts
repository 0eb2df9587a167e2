// Realistic MDM payloads, generated deterministically (no fixtures from outside).
import { type PlistDict, type PlistValue, real } from '@mdmkit/plist';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'Mail',
  'Notes',
  'Photos',
  'Maps',
  'Files',
  'Slack',
  'Zoom',
  'Teams',
  'Outlook',
  'Books',
  'Keynote',
  'Pages',
];

function uuid(r: () => number): string {
  const h = () => Math.floor(r() * 16).toString(16);
  const part = (n: number) => Array.from({ length: n }, h).join('');
  return `${part(8)}-${part(4)}-4${part(3)}-a${part(3)}-${part(12)}`.toUpperCase();
}

function bytes(r: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

function envelope(r: () => number, extra: PlistDict): PlistDict {
  return { CommandUUID: uuid(r), Status: 'Acknowledged', UDID: `00008030-${uuid(r).slice(0, 16)}`, ...extra };
}

/** A DeviceInformation response (~5 KB of XML). */
export function deviceInformation(): PlistValue {
  const r = prng(1);
  const q: PlistDict = {
    DeviceName: "Alex's iPad",
    OSVersion: '17.4.1',
    BuildVersion: '21E236',
    ModelName: 'iPad',
    Model: 'MK2K3LL/A',
    ProductName: 'iPad12,1',
    SerialNumber: 'DMPXK2ABCD12',
    DeviceCapacity: real(59.55),
    AvailableDeviceCapacity: real(31.2),
    BatteryLevel: 0.82,
    CellularTechnology: 0,
    IMEI: '35 123456 789012 3',
    MEID: '35123456789012',
    ModemFirmwareVersion: '3.02.01',
    IsSupervised: true,
    IsDeviceLocatorServiceEnabled: false,
    IsActivationLockEnabled: true,
    IsDoNotDisturbInEffect: false,
    IsCloudBackupEnabled: true,
    LastCloudBackupDate: new Date('2024-03-01T02:14:07Z'),
    IsMDMLostModeEnabled: false,
    WiFiMAC: 'a4:83:e7:12:34:56',
    BluetoothMAC: 'a4:83:e7:12:34:57',
    EthernetMACs: ['a4:83:e7:12:34:58'],
    EASDeviceIdentifier: 'A1B2C3D4E5F6G7H8I9J0',
    PushToken: bytes(r, 32),
    OrganizationInfo: {
      OrganizationName: 'Example Corp',
      OrganizationEmail: 'it@example.com',
      OrganizationPhone: '+1 555 0100',
    },
    ServiceSubscriptions: [
      {
        Slot: 'CTSubscriptionSlotOne',
        CarrierSettingsVersion: '56.0',
        IsDataPreferred: true,
        IsRoaming: false,
        ICCID: '8901 4102 1234 5678 9012',
      },
      {
        Slot: 'CTSubscriptionSlotTwo',
        CarrierSettingsVersion: '56.0',
        IsDataPreferred: false,
        IsRoaming: false,
        ICCID: '',
      },
    ],
    OSUpdateSettings: {
      AutoCheckEnabled: true,
      AutomaticAppInstallationEnabled: true,
      AutomaticOSInstallationEnabled: false,
      BackgroundDownloadEnabled: true,
      CatalogURL: 'https://swscan.apple.com/content/catalogs/others/index.sucatalog',
      IsDefaultCatalog: true,
      PerformPeriodicCheck: true,
      PreviousScanDate: new Date('2024-03-02T08:00:00Z'),
      PreviousScanResult: 0,
    },
    SupplementalBuildVersion: '21E236',
    SystemIntegrityProtectionEnabled: true,
    TimeZone: 'America/Los_Angeles',
    UserName: 'alex',
    MaximumResidentUsers: 0,
    EstimatedResidentUsers: 0,
    QuotaSize: 0,
  };
  for (let i = 0; q && i < 40; i++)
    q[`ExtraProperty${i}`] = i % 3 === 0 ? `value ${uuid(r)}` : i % 3 === 1 ? i * 1000 : i % 2 === 0;
  return envelope(r, { QueryResponses: q });
}

function app(r: () => number, i: number): PlistDict {
  const name = `${WORDS[i % WORDS.length]} ${i}`;
  return {
    Identifier: `com.example.${WORDS[i % WORDS.length]!.toLowerCase()}.app${i}`,
    Name: name,
    ShortVersion: `${1 + (i % 9)}.${i % 20}.${i % 7}`,
    Version: String(1000 + i),
    BundleSize: 10_000_000 + Math.floor(r() * 500_000_000),
    DynamicSize: Math.floor(r() * 100_000_000),
    ExternalVersionIdentifier: 800_000_000 + i,
    AdHocCodeSigned: false,
    AppStoreVendable: r() < 0.8,
    BetaApp: false,
    DeviceBasedVPP: r() < 0.3,
    HasUpdateAvailable: r() < 0.1,
    Installing: false,
    IsAppClip: false,
    IsValidated: true,
    DistributorIdentifier: 'com.apple.AppStore',
  };
}

/** An InstalledApplicationList response with `n` apps (1,000 apps ≈ 1 MB of XML). */
export function installedApplicationList(n: number): PlistValue {
  const r = prng(2);
  return envelope(r, { InstalledApplicationList: Array.from({ length: n }, (_, i) => app(r, i)) });
}

/** A ProfileList response with 50 profiles, each with signer certificates and payload summaries. */
export function profileList(): PlistValue {
  const r = prng(3);
  const profiles = Array.from({ length: 50 }, (_, i) => ({
    PayloadIdentifier: `com.example.profile.${i}`,
    PayloadUUID: uuid(r),
    PayloadDisplayName: `Example Profile ${i}`,
    PayloadDescription: 'Configures Wi-Fi, VPN and restrictions for managed devices.',
    PayloadOrganization: 'Example Corp',
    PayloadVersion: 1,
    PayloadRemovalDisallowed: i % 2 === 0,
    IsEncrypted: false,
    IsManaged: true,
    HasRemovalPasscode: false,
    SignerCertificates: [bytes(r, 1400)],
    PayloadContent: Array.from({ length: 4 }, (_, j) => ({
      PayloadType: [
        'com.apple.wifi.managed',
        'com.apple.vpn.managed',
        'com.apple.applicationaccess',
        'com.apple.security.pkcs1',
      ][j]!,
      PayloadIdentifier: `com.example.profile.${i}.payload${j}`,
      PayloadUUID: uuid(r),
      PayloadVersion: 1,
      PayloadDisplayName: `Payload ${j}`,
    })),
  }));
  return envelope(r, { ProfileList: profiles });
}

/** Plain-JSON equivalent of a value (dates as ISO strings, data as base64), for the JSON baseline. */
export function toJsonEquivalent(v: PlistValue): unknown {
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toJsonEquivalent);
  if (typeof v === 'object' && v !== null && !(v instanceof Date)) {
    if ('value' in v && Object.keys(v).length === 1 && typeof (v as { value: unknown }).value === 'number') {
      return (v as { value: number }).value;
    }
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toJsonEquivalent(x as PlistValue);
    return o;
  }
  return v;
}
