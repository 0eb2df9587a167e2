import { describe, expect, it } from 'vitest';
import { accessRightBits, CommandError, isMdmkitError, requiredAccessRights } from '../src/index';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('@mdmkit/commands throws CommandError with a code', () => {
  it('requiredAccessRights of an unknown RequestType is UNKNOWN_COMMAND', () => {
    const e = thrown(() => requiredAccessRights('NoSuch', 'iOS'));
    expect(e).toBeInstanceOf(CommandError);
    expect((e as CommandError).code).toBe('UNKNOWN_COMMAND');
    expect(isMdmkitError(e)).toBe(true);
  });

  it('accessRightBits of an unknown name is UNKNOWN_ACCESS_RIGHT', () => {
    const e = thrown(() => accessRightBits('AllowTimeTravel'));
    expect(e).toBeInstanceOf(CommandError);
    expect((e as CommandError).code).toBe('UNKNOWN_ACCESS_RIGHT');
  });
});
