/**
 * The value `fn` throws; fails the test (by throwing) when it returns instead.
 *
 * @example
 * ```ts
 * expect(thrownBy(() => JSON.parse('{'))).toBeInstanceOf(SyntaxError);
 * ```
 */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}
