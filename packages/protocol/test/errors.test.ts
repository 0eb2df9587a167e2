import { thrownBy } from '@mdmkit/test-support';
import { describe, expect, it } from 'vitest';
import { encodeCommand, isMdmkitError, ProtocolError, rawCommand, unauthorizedResponse } from '../src/index';

describe('every public function throws ProtocolError with a code', () => {
  it('unauthorizedResponse without { deliberate: true } is INVALID_ARGUMENT', () => {
    for (const arg of [{}, undefined, { deliberate: 'yes' }]) {
      const e = thrownBy(() => unauthorizedResponse(arg as never));
      expect(e).toBeInstanceOf(ProtocolError);
      expect((e as ProtocolError).code).toBe('INVALID_ARGUMENT');
      expect(isMdmkitError(e)).toBe(true);
    }
  });

  it('a cyclic value inside rawCommand is INVALID_COMMAND with the path, not a stack overflow', () => {
    const loop: Record<string, unknown> = { Name: 'x' };
    loop.Self = loop;
    const e = thrownBy(() => rawCommand('Future', { Outer: [loop] }));
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('INVALID_COMMAND');
    expect((e as ProtocolError).keyPath).toEqual(['Command', 'Outer', 0, 'Self']);
  });

  it('a cycle added after building is caught when encoding', () => {
    const list: unknown[] = [];
    const cmd = rawCommand('Future', { List: list });
    (cmd.Command as unknown as { List: unknown[] }).List.push(cmd.Command);
    const e = thrownBy(() => encodeCommand(cmd));
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('INVALID_COMMAND');
  });

  it('nesting deeper than the limit is INVALID_COMMAND', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const e = thrownBy(() => rawCommand('Future', { Deep: deep }));
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('INVALID_COMMAND');
  });

  it('values a plist cannot carry are refused when the command is built', () => {
    const e = thrownBy(() => rawCommand('Future', { Fn: () => 1 }));
    expect((e as ProtocolError).code).toBe('INVALID_COMMAND');
    expect((e as ProtocolError).keyPath).toEqual(['Command', 'Fn']);
  });
});
