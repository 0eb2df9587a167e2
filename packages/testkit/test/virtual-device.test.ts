import { randomUUID } from 'node:crypto';
import {
  certificateListCommand,
  decodeReportDictFor,
  deviceInformationCommand,
  installedApplicationListCommand,
  installProfileCommand,
  profileListCommand,
  rawCommand,
  removeProfileCommand,
  securityInfoCommand,
} from '@mdmkit/commands';
import { createSelfSignedCa, generateKeyPair, issueCertificate, signCms } from '@mdmkit/crypto';
import { buildXml, type PlistDict } from '@mdmkit/plist';
import { decodeReportDict } from '@mdmkit/protocol';
import {
  answerCommand,
  DEVICE_MODELS,
  type DevicePlatform,
  type DeviceState,
  readEnrollmentProfile,
} from '@mdmkit/testkit/virtual-device';
import { beforeAll, describe, expect, it } from 'vitest';

let ca: Awaited<ReturnType<typeof createSelfSignedCa>>;
let identity: Awaited<ReturnType<typeof issueCertificate>>;

beforeAll(async () => {
  ca = await createSelfSignedCa({ subject: 'CN=test CA', validityDays: 5 });
  const key = await generateKeyPair({ type: 'rsa', bits: 2048 });
  identity = await issueCertificate({
    subject: { CN: 'device identity' },
    publicKey: key.publicKey,
    issuer: ca.certificate,
    issuerKey: ca.privateKey,
    validityDays: 5,
  });
});

function state(platform: DevicePlatform): DeviceState {
  return {
    udid: randomUUID().toUpperCase(),
    serialNumber: 'C02TEST0001',
    deviceName: 'Test device',
    model: DEVICE_MODELS[platform],
    identity,
    caCertificates: [ca.certificate],
    profiles: new Map(),
    userChannel: false,
  };
}

function profileBytes(identifier: string): Uint8Array {
  return new TextEncoder().encode(
    buildXml({
      PayloadType: 'Configuration',
      PayloadVersion: 1,
      PayloadIdentifier: identifier,
      PayloadUUID: randomUUID(),
      PayloadDisplayName: 'Test',
      PayloadContent: [
        {
          PayloadType: 'com.apple.dock',
          PayloadVersion: 1,
          PayloadIdentifier: `${identifier}.dock`,
          PayloadUUID: randomUUID(),
        },
      ],
    }),
  );
}

/** Runs a command on the state and decodes the answer as a server would. */
async function run(s: DeviceState, command: { CommandUUID: string; Command: object }) {
  const answer = await answerCommand(s, command.Command);
  const dict = { UDID: s.udid, CommandUUID: command.CommandUUID, ...answer } as PlistDict;
  return { answer, dict };
}

describe('virtual device answers', () => {
  for (const platform of ['macOS', 'iOS', 'iPadOS'] as const) {
    it(`are schema-valid for every implemented command on ${platform}`, async () => {
      const s = state(platform);
      const commands = [
        [
          'DeviceInformation',
          deviceInformationCommand({
            Queries: ['UDID', 'SerialNumber', 'OSVersion', 'IsAppleSilicon', 'IMEI', 'BatteryLevel'],
          }),
        ],
        ['SecurityInfo', securityInfoCommand({})],
        ['ProfileList', profileListCommand({})],
        ['InstalledApplicationList', installedApplicationListCommand({})],
        ['CertificateList', certificateListCommand({})],
        ['InstallProfile', installProfileCommand({ Payload: profileBytes('com.example.test') })],
      ] as const;
      for (const [type, command] of commands) {
        const { answer, dict } = await run(s, command);
        expect(answer.Status, type).toBe('Acknowledged');
        const typed = decodeReportDictFor(type, dict);
        expect(typed.issues, type).toEqual([]);
      }
    });
  }

  it('differ by platform where real devices differ', async () => {
    const query = deviceInformationCommand({ Queries: ['IsAppleSilicon', 'IMEI', 'ModelName'] });
    const mac = (await run(state('macOS'), query)).answer.QueryResponses as Record<string, unknown>;
    const phone = (await run(state('iOS'), query)).answer.QueryResponses as Record<string, unknown>;
    const pad = (await run(state('iPadOS'), query)).answer.QueryResponses as Record<string, unknown>;
    expect(mac).toEqual({ IsAppleSilicon: true, ModelName: 'MacBook Air' });
    expect(phone).toMatchObject({ ModelName: 'iPhone' });
    expect(typeof phone.IMEI).toBe('string');
    expect(pad).toEqual({ ModelName: 'iPad Pro' });
    const macSecurity = (await run(state('macOS'), securityInfoCommand({}))).answer.SecurityInfo as Record<
      string,
      unknown
    >;
    const padSecurity = (await run(state('iPadOS'), securityInfoCommand({}))).answer.SecurityInfo as Record<
      string,
      unknown
    >;
    expect(macSecurity.FDE_Enabled).toBe(true);
    expect(padSecurity.FDE_Enabled).toBeUndefined();
    expect(padSecurity.HardwareEncryptionCaps).toBe(3);
  });

  it('answers only the queried DeviceInformation keys', async () => {
    const { answer } = await run(state('iOS'), deviceInformationCommand({ Queries: ['SerialNumber'] }));
    expect(answer.QueryResponses).toEqual({ SerialNumber: 'C02TEST0001' });
  });

  it('installs and removes profiles, signed or not, and ProfileList follows', async () => {
    const s = state('macOS');
    const signed = await signCms({
      content: profileBytes('com.example.signed'),
      certificate: ca.certificate,
      privateKey: ca.privateKey,
    });
    await run(s, installProfileCommand({ Payload: profileBytes('com.example.plain') }));
    await run(s, installProfileCommand({ Payload: signed }));
    const ids = async () => {
      const { dict } = await run(s, profileListCommand({}));
      return decodeReportDictFor('ProfileList', dict).response?.ProfileList.map((p) => p.PayloadIdentifier);
    };
    expect(await ids()).toEqual(['com.example.plain', 'com.example.signed']);
    expect((await run(s, removeProfileCommand({ Identifier: 'com.example.plain' }))).answer.Status).toBe(
      'Acknowledged',
    );
    expect(await ids()).toEqual(['com.example.signed']);
    const again = await run(s, removeProfileCommand({ Identifier: 'com.example.plain' }));
    expect(again.answer.Status).toBe('Error');
    expect(decodeReportDict(again.dict).issues).toEqual([]);
  });

  it('answers Error with a valid ErrorChain for commands it does not implement', async () => {
    const { answer, dict } = await run(state('iOS'), rawCommand('FrobnicateTheWidget'));
    expect(answer.Status).toBe('Error');
    const report = decodeReportDict(dict);
    expect(report.issues).toEqual([]);
    expect(report.envelope.ErrorChain?.[0]).toMatchObject({
      ErrorDomain: 'MCMDMErrorDomain',
      ErrorCode: 12021,
    });
  });

  it('refuses an enrollment profile whose signature does not verify', async () => {
    const bytes = await signCms({
      content: profileBytes('x'),
      certificate: ca.certificate,
      privateKey: ca.privateKey,
    });
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0xff;
    await expect(readEnrollmentProfile(bytes)).rejects.toMatchObject({ code: 'INVALID_PROFILE' });
  });
});
