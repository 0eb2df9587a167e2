import { isMdmkitError, PlistError, PlistParseError, uid } from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';

describe('PlistParseError', () => {
  it('is branded', () => {
    const e = new PlistParseError('INVALID_XML', 'x');
    expect(isMdmkitError(e)).toBe(true);
    expect(isMdmkitError(new Error('x'))).toBe(false);
  });
});

describe('uid', () => {
  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])(
    'refuses %s with the package error and a code',
    (n) => {
      let thrown: unknown;
      try {
        uid(n);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(PlistError);
      expect(isMdmkitError(thrown)).toBe(true);
      expect((thrown as PlistError).code).toBe('INVALID_VALUE');
    },
  );

  it('accepts 0 … 2^53−1', () => {
    expect(uid(0).value).toBe(0);
    expect(uid(Number.MAX_SAFE_INTEGER).value).toBe(Number.MAX_SAFE_INTEGER);
  });
});
