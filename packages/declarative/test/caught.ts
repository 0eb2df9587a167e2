import { expect } from 'vitest';
import { DeclarativeError } from '../src/index';

/** The DeclarativeError `f` throws; fails the test when it throws something else or nothing. */
export function caught(f: () => unknown): DeclarativeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DeclarativeError);
    return e as DeclarativeError;
  }
  throw new Error('expected a DeclarativeError');
}
