import type { ProfileError } from '../src/index';

/** The error `f` throws (the test fails when it throws none). */
export function caught(f: () => unknown): ProfileError {
  try {
    f();
  } catch (e) {
    return e as ProfileError;
  }
  throw new Error('no error thrown');
}

/** The error `p` rejects with (the test fails when it resolves). */
export async function rejected(p: Promise<unknown>): Promise<ProfileError> {
  try {
    await p;
  } catch (e) {
    return e as ProfileError;
  }
  throw new Error('no error thrown');
}
