import { expect } from 'vitest';
import { CryptoError } from '../../src/index';

/** The `CryptoError` code `fn` throws, or undefined when it returns; any other error fails the test. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    return (e as CryptoError).code;
  }
  return undefined;
}
