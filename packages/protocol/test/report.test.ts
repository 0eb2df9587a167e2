import { buildXml } from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';
import { decodeReport, ProtocolError } from '../src/index';
import { fixture } from './fixtures';

describe('decodeReport', () => {
  it('Error report with an error chain', () => {
    const r = decodeReport(fixture('report-error-installprofile-macos'));
    expect(r.envelope.Status).toBe('Error');
    expect(r.envelope.CommandUUID).toBe('2B3C4D5E-6F70-4182-93A4-B5C6D7E8F901');
    expect(r.envelope.ErrorChain?.map((e) => [e.ErrorCode, e.ErrorDomain])).toEqual([
      [4001, 'MCInstallationErrorDomain'],
      [2003, 'MCProfileErrorDomain'],
    ]);
    expect(r.enrollment.id).toBe('5A3C9E21-7B4D-5F60-8A1B-2C3D4E5F6071');
  });

  it('NotNow report', () => {
    const r = decodeReport(fixture('report-notnow-ios'));
    expect(r.envelope.Status).toBe('NotNow');
    expect(r.enrollment.type).toBe('device');
  });

  it('Idle report on the macOS user channel needs no CommandUUID', () => {
    const r = decodeReport(fixture('report-idle-macos-user'));
    expect(r.envelope.Status).toBe('Idle');
    expect(r.envelope.CommandUUID).toBeUndefined();
    expect(r.enrollment.type).toBe('user');
  });

  it('keeps the command-specific keys in payload', () => {
    const r = decodeReport(fixture('report-certificatelist-macos'));
    expect(Array.isArray(r.payload.CertificateList)).toBe(true);
  });

  it('an envelope that is not well-formed is INVALID_MESSAGE with the key path', () => {
    const cases: [Record<string, unknown>, (string | number)[]][] = [
      [{ UDID: 'D', Status: 'Acknowledged' }, ['CommandUUID']],
      [{ UDID: 'D', Status: 'Maybe', CommandUUID: 'c' }, ['Status']],
      [{ UDID: 'D', Status: 'Error', CommandUUID: 7 }, ['CommandUUID']],
    ];
    for (const [dict, path] of cases) {
      try {
        decodeReport(buildXml(dict as never));
        throw new Error('expected failure');
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        expect((e as ProtocolError).code).toBe('INVALID_MESSAGE');
        expect((e as ProtocolError).keyPath).toEqual(path);
        expect((e as ProtocolError).issues[0]).toMatchObject({ path });
      }
    }
  });
});

describe('decodeReport never loses a report over its ErrorChain', () => {
  it('an ErrorChain item without ErrorDomain: envelope kept, chain as sent, issue listed', () => {
    const r = decodeReport(fixture('report-error-chain-without-domain-ios'));
    expect(r.envelope.Status).toBe('Error');
    expect(r.envelope.CommandUUID).toBe('0D4C7E1A-93B2-4F7E-A1C5-6B2E8D9F0A13');
    expect(r.envelope.ErrorChain).toEqual([
      { ErrorCode: 12064, LocalizedDescription: 'The app could not be installed.' },
      {
        ErrorCode: 1008,
        ErrorDomain: 'ASDErrorDomain',
        USEnglishDescription: 'Purchase failed',
      },
    ]);
    expect(r.issues).toEqual([
      {
        path: ['ErrorChain', 0, 'ErrorDomain'],
        expected: 'string',
        got: 'nothing',
        message: expect.any(String),
      },
    ]);
    expect(r.enrollment.id).toBe('00008110-000A1C2E3F4B801E');
  });

  it('a wrong type inside an item is an issue (expected, got), never the value', () => {
    const r = decodeReport(
      buildXml({
        UDID: 'D',
        Status: 'Error',
        CommandUUID: 'c',
        ErrorChain: [{ ErrorCode: 'secret-ish', ErrorDomain: 'd' }, 'not a dictionary'],
      }),
    );
    expect(r.envelope.CommandUUID).toBe('c');
    expect(r.issues.map((i) => [i.path, i.expected, i.got])).toEqual([
      [['ErrorChain', 0, 'ErrorCode'], 'number', 'string'],
      [['ErrorChain', 1], 'dictionary', 'string'],
    ]);
    expect(JSON.stringify(r.issues)).not.toContain('secret-ish');
  });

  it('an ErrorChain that is not an array stays in payload only', () => {
    const r = decodeReport(
      buildXml({ UDID: 'D', Status: 'Error', CommandUUID: 'c', ErrorChain: { ErrorCode: 1 } }),
    );
    expect(r.envelope.ErrorChain).toBeUndefined();
    expect(r.payload.ErrorChain).toEqual({ ErrorCode: 1 });
    expect(r.issues).toMatchObject([{ path: ['ErrorChain'], expected: 'array', got: 'dictionary' }]);
  });
});

describe('identity keys that do not decide the enrollment id never cost a report', () => {
  it('UserLongName or NotOnConsole of another type: envelope kept, key left out of it, issue listed', () => {
    const r = decodeReport(
      buildXml({
        UDID: 'D',
        UserID: 'U',
        UserLongName: 42,
        NotOnConsole: 'true',
        Status: 'Acknowledged',
        CommandUUID: 'C',
      }),
    );
    expect(r.envelope).toMatchObject({ UDID: 'D', UserID: 'U', Status: 'Acknowledged', CommandUUID: 'C' });
    expect(r.envelope.UserLongName).toBeUndefined();
    expect(r.envelope.NotOnConsole).toBeUndefined();
    expect(r.payload.UserLongName).toBe(42);
    expect(r.enrollment.id).toBe('D:U');
    expect(r.issues.map((i) => [i.path, i.expected, i.got])).toEqual([
      [['UserLongName'], 'string', 'integer'],
      [['NotOnConsole'], 'boolean', 'string'],
    ]);
  });

  it('a key that decides the id is still part of the envelope', () => {
    expect(() => decodeReport(buildXml({ UDID: 'D', UserID: 7, Status: 'Idle' }))).toThrow(ProtocolError);
  });
});
