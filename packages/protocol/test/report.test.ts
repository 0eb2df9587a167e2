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

  it('rejects a missing CommandUUID, a bad status and a bad error chain with key paths', () => {
    const cases: [Record<string, unknown>, (string | number)[]][] = [
      [{ UDID: 'D', Status: 'Acknowledged' }, ['CommandUUID']],
      [{ UDID: 'D', Status: 'Maybe', CommandUUID: 'c' }, ['Status']],
      [
        { UDID: 'D', Status: 'Error', CommandUUID: 'c', ErrorChain: [{ ErrorCode: 'x', ErrorDomain: 'd' }] },
        ['ErrorChain', 0, 'ErrorCode'],
      ],
    ];
    for (const [dict, path] of cases) {
      try {
        decodeReport(buildXml(dict as never));
        throw new Error('expected failure');
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        expect((e as ProtocolError).code).toBe('INVALID_MESSAGE');
        expect((e as ProtocolError).keyPath).toEqual(path);
      }
    }
  });
});
