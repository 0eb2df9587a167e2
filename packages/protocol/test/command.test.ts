import { parse } from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';
import { commandResponse, decodeCommand, encodeCommand, ProtocolError, rawCommand } from '../src/index';

describe('command envelopes', () => {
  it('encodes { CommandUUID, Command: { RequestType, ... } } as an XML plist', () => {
    const cmd = rawCommand('InstallProfile', { Payload: new Uint8Array([60, 63]) }, { commandUUID: 'C-1' });
    const bytes = encodeCommand(cmd);
    const text = new TextDecoder().decode(bytes);
    expect(text.startsWith('<?xml')).toBe(true);
    expect(parse(bytes)).toEqual({
      CommandUUID: 'C-1',
      Command: { RequestType: 'InstallProfile', Payload: new Uint8Array([60, 63]) },
    });
    expect(decodeCommand(bytes).Command.RequestType).toBe('InstallProfile');
  });

  it('gives each command a fresh UUID unless one is given', () => {
    const a = rawCommand('ProfileList');
    const b = rawCommand('ProfileList');
    expect(a.CommandUUID).not.toBe(b.CommandUUID);
    expect(a.CommandUUID).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('drops undefined optional keys and never lets the payload override RequestType', () => {
    const cmd = rawCommand('DeviceLock', { Message: undefined, RequestType: 'EraseDevice', PIN: '123456' });
    expect(parse(encodeCommand(cmd))).toEqual({
      CommandUUID: cmd.CommandUUID,
      Command: { RequestType: 'DeviceLock', PIN: '123456' },
    });
  });

  it('rejects values a plist cannot carry', () => {
    expect(() => encodeCommand(rawCommand('X', { Bad: null }))).toThrow(ProtocolError);
    expect(() => encodeCommand(rawCommand('X', { Bad: [undefined] }))).toThrow(/Bad\.0/);
    expect(() => rawCommand('')).toThrow(ProtocolError);
  });

  it('answers a report with the next command, or an empty 200 when the queue is empty', () => {
    const empty = commandResponse();
    expect(empty.status).toBe(200);
    expect(empty.body.length).toBe(0);
    const next = commandResponse(rawCommand('ProfileList', {}, { commandUUID: 'C-2' }));
    expect(next.status).toBe(200);
    expect(next.headers['content-type']).toMatch(/xml/);
    expect(parse(next.body)).toEqual({ CommandUUID: 'C-2', Command: { RequestType: 'ProfileList' } });
  });
});
