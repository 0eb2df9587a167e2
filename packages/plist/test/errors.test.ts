import { isMdmkitError, PlistParseError } from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';

describe('PlistParseError', () => {
  it('is branded', () => {
    const e = new PlistParseError('INVALID_XML', 'x');
    expect(isMdmkitError(e)).toBe(true);
    expect(isMdmkitError(new Error('x'))).toBe(false);
  });
});
