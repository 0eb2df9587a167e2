import { thrownBy } from '@mdmkit/test-support';
import { describe, expect, it } from 'vitest';
import { accessRightBits, CommandError, isMdmkitError, requiredAccessRights } from '../src/index';

describe('@mdmkit/commands throws CommandError with a code', () => {
  it('requiredAccessRights of an unknown RequestType is UNKNOWN_COMMAND', () => {
    const e = thrownBy(() => requiredAccessRights('NoSuch', 'iOS'));
    expect(e).toBeInstanceOf(CommandError);
    expect((e as CommandError).code).toBe('UNKNOWN_COMMAND');
    expect(isMdmkitError(e)).toBe(true);
  });

  it('accessRightBits of an unknown name is UNKNOWN_ACCESS_RIGHT', () => {
    const e = thrownBy(() => accessRightBits('AllowTimeTravel'));
    expect(e).toBeInstanceOf(CommandError);
    expect((e as CommandError).code).toBe('UNKNOWN_ACCESS_RIGHT');
  });
});
