import { type Certificate, verifyCms } from '@mdmkit/crypto';
import { type PlistDict, parse } from '@mdmkit/plist';
import type { DeviceModel } from './models';

/** A configuration profile the virtual device has installed, as ProfileList reports it. */
export interface InstalledProfile {
  PayloadIdentifier: string;
  PayloadUUID: string;
  PayloadVersion: number;
  PayloadDisplayName?: string;
  PayloadOrganization?: string;
  IsManaged: boolean;
  PayloadContent: {
    PayloadType: string;
    PayloadVersion: number;
    PayloadIdentifier: string;
    PayloadUUID?: string;
  }[];
}

/** The state a command may read or change. */
export interface DeviceState {
  udid: string;
  serialNumber: string;
  deviceName: string;
  model: DeviceModel;
  identity: Certificate;
  caCertificates: Certificate[];
  profiles: Map<string, InstalledProfile>;
  /** Whether the answer is for a user channel (macOS). */
  userChannel: boolean;
}

/** The report fields besides the identity block: Status, and the command's response keys. */
export type CommandAnswer = Record<string, unknown> & { Status: 'Acknowledged' | 'Error' | 'NotNow' };

function isDict(v: unknown): v is PlistDict {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    !(v instanceof Date)
  );
}

/**
 * An `Error` report with an ErrorChain, the shape devices use.
 *
 * @example
 * ```ts
 * const answer = errorAnswer('MCMDMErrorDomain', 12021, 'Not supported.');
 * answer.Status; // 'Error'
 * ```
 */
export function errorAnswer(domain: string, code: number, description: string): CommandAnswer {
  return {
    Status: 'Error',
    ErrorChain: [
      {
        ErrorCode: code,
        ErrorDomain: domain,
        LocalizedDescription: description,
        USEnglishDescription: description,
      },
    ],
  };
}

function deviceInformation(state: DeviceState, command: PlistDict): CommandAnswer {
  const m = state.model;
  const known: Record<string, string | number | boolean> = {
    UDID: state.udid,
    DeviceName: state.deviceName,
    OSVersion: m.osVersion,
    BuildVersion: m.buildVersion,
    ModelName: m.modelName,
    Model: m.model,
    ProductName: m.productName,
    SerialNumber: state.serialNumber,
    DeviceCapacity: 256,
    AvailableDeviceCapacity: 118.5,
    IsSupervised: false,
    IsActivationLockEnabled: false,
    IsDeviceLocatorServiceEnabled: false,
    WiFiMAC: 'a4:83:e7:00:00:01',
    BluetoothMAC: 'a4:83:e7:00:00:02',
    ...m.extraInformation,
  };
  const queries = Array.isArray(command.Queries) ? command.Queries : Object.keys(known);
  const answers: Record<string, unknown> = {};
  // A device answers the keys it knows and leaves out the rest, as real ones do.
  for (const q of queries) if (typeof q === 'string' && Object.hasOwn(known, q)) answers[q] = known[q];
  return { Status: 'Acknowledged', QueryResponses: answers };
}

function readProfileBytes(bytes: Uint8Array): Promise<unknown> {
  return (bytes[0] === 0x30 ? verifyCms(bytes).then((v) => v.content) : Promise.resolve(bytes)).then((c) =>
    parse(c),
  );
}

async function installProfile(state: DeviceState, command: PlistDict): Promise<CommandAnswer> {
  const bytes = command.Payload;
  if (!(bytes instanceof Uint8Array))
    return errorAnswer('MCProfileErrorDomain', 1000, 'The profile is missing.');
  let profile: unknown;
  try {
    profile = await readProfileBytes(bytes);
  } catch {
    return errorAnswer('MCProfileErrorDomain', 1000, 'The profile cannot be read.');
  }
  if (
    !isDict(profile) ||
    typeof profile.PayloadIdentifier !== 'string' ||
    typeof profile.PayloadUUID !== 'string'
  ) {
    return errorAnswer('MCProfileErrorDomain', 1001, 'The profile is malformed.');
  }
  const content = Array.isArray(profile.PayloadContent) ? profile.PayloadContent.filter(isDict) : [];
  state.profiles.set(profile.PayloadIdentifier, {
    PayloadIdentifier: profile.PayloadIdentifier,
    PayloadUUID: profile.PayloadUUID,
    PayloadVersion: typeof profile.PayloadVersion === 'number' ? profile.PayloadVersion : 1,
    ...(typeof profile.PayloadDisplayName === 'string'
      ? { PayloadDisplayName: profile.PayloadDisplayName }
      : {}),
    ...(typeof profile.PayloadOrganization === 'string'
      ? { PayloadOrganization: profile.PayloadOrganization }
      : {}),
    IsManaged: true,
    PayloadContent: content.map((p) => ({
      PayloadType: String(p.PayloadType),
      PayloadVersion: typeof p.PayloadVersion === 'number' ? p.PayloadVersion : 1,
      PayloadIdentifier: String(p.PayloadIdentifier),
      ...(typeof p.PayloadUUID === 'string' ? { PayloadUUID: p.PayloadUUID } : {}),
    })),
  });
  return { Status: 'Acknowledged' };
}

function removeProfile(state: DeviceState, command: PlistDict): CommandAnswer {
  const id = command.Identifier;
  if (typeof id !== 'string' || !state.profiles.has(id)) {
    return errorAnswer('MCProfileErrorDomain', 1003, `The profile “${String(id)}” is not installed.`);
  }
  state.profiles.delete(id);
  return { Status: 'Acknowledged' };
}

function certificateList(state: DeviceState): CommandAnswer {
  const entry = (c: Certificate, identity: boolean) => ({
    CommonName: c.subject.get('CN') ?? c.subject.toString(),
    IsIdentity: identity,
    Data: c.der,
  });
  return {
    Status: 'Acknowledged',
    CertificateList: [entry(state.identity, true), ...state.caCertificates.map((c) => entry(c, false))],
  };
}

function installedApplications(state: DeviceState, command: PlistDict): CommandAnswer {
  const wanted = Array.isArray(command.Identifiers) ? new Set(command.Identifiers) : undefined;
  const apps = state.model.applications.filter((a) => !wanted || wanted.has(a.Identifier));
  return { Status: 'Acknowledged', InstalledApplicationList: apps.map((a) => ({ ...a })) };
}

/**
 * How the virtual device answers a command: the common inspection and profile commands like a real
 * device, and `Error` with an ErrorChain for everything it does not implement.
 *
 * @example
 * ```ts
 * const answer = await answerCommand(state, { RequestType: 'SecurityInfo' });
 * answer.Status; // 'Acknowledged'
 * ```
 */
export async function answerCommand(state: DeviceState, request: object): Promise<CommandAnswer> {
  const command = request as PlistDict;
  switch (command.RequestType) {
    case 'DeviceInformation':
      return deviceInformation(state, command);
    case 'SecurityInfo':
      return { Status: 'Acknowledged', SecurityInfo: structuredClone(state.model.securityInfo) };
    case 'ProfileList':
      return {
        Status: 'Acknowledged',
        ProfileList: [...state.profiles.values()].map((p) => structuredClone(p)),
      };
    case 'InstalledApplicationList':
      return installedApplications(state, command);
    case 'CertificateList':
      return certificateList(state);
    case 'InstallProfile':
      return installProfile(state, command);
    case 'RemoveProfile':
      return removeProfile(state, command);
    default:
      return errorAnswer(
        'MCMDMErrorDomain',
        12021,
        `The command “${String(command.RequestType)}” is not supported.`,
      );
  }
}
