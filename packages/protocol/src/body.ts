import { type PlistDict, parse } from '@mdmkit/plist';
import { ProtocolError } from './errors';

/**
 * True for a plist dictionary (a plain object, not an array, date, data, real or uid).
 *
 * @example
 * ```ts
 * isPlistDict({ UDID: 'x' }); // true
 * isPlistDict([1, 2]); // false
 * ```
 */
export function isPlistDict(v: unknown): v is PlistDict {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Parses a request body (XML or binary plist) into its top-level dictionary. Reals are decoded as
 * plain numbers so that schemas see numbers. Any parse failure becomes `INVALID_PLIST`.
 *
 * @example
 * ```ts
 * const dict = parseBody(await request.bytes(), 'check-in'); // PlistDict
 * ```
 */
export function parseBody(body: Uint8Array | string, what: string): PlistDict {
  let value: unknown;
  try {
    value = parse(body, { reals: 'number' });
  } catch (e) {
    throw new ProtocolError('INVALID_PLIST', `${what}: body is not a property list`, { cause: e });
  }
  if (!isPlistDict(value)) {
    throw new ProtocolError('INVALID_PLIST', `${what}: top-level value is not a dictionary`);
  }
  return value;
}
