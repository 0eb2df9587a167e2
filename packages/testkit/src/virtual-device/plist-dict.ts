import type { PlistDict } from '@mdmkit/plist';

/**
 * True for a plist dictionary (not an array, data or date), the one check profile and command readers
 * need. @internal
 *
 * @example
 * ```ts
 * isDict({ PayloadType: 'Configuration' }); // true
 * isDict([1, 2]); // false
 * ```
 */
export function isDict(v: unknown): v is PlistDict {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    !(v instanceof Date)
  );
}
