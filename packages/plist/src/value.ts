import { PlistParseError } from './errors';

/**
 * A real number that must stay a real even though its value is integral (`1.0`, `-3.0`).
 *
 * Plain `number`s follow one rule when written: safe integers (except `-0`) become `<integer>`,
 * everything else `<real>`. Wrap a number in `PlistReal` (see {@link real}) to force `<real>`. Parsing
 * returns a `PlistReal` exactly for reals that the rule would otherwise write back as integers, so every
 * value round-trips with its type.
 *
 * @example
 * ```ts
 * import { buildXml, real } from '@mdmkit/plist';
 * buildXml({ Version: 1, Scale: real(1) }); // <integer>1</integer> … <real>1</real>
 * ```
 */
export class PlistReal {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
}

/**
 * Wraps `n` so that the builders write it as a real, whatever its value.
 *
 * @example
 * ```ts
 * import { buildXml, real } from '@mdmkit/plist';
 * buildXml(real(2)); // …<real>2</real>…
 * ```
 */
export function real(n: number): PlistReal {
  return new PlistReal(n);
}

/**
 * A UID (binary property lists only; used by NSKeyedArchiver). XML has no UID type: the XML builder
 * writes it as `<dict><key>CF$UID</key><integer>n</integer></dict>`, as Apple's tools do.
 *
 * @example
 * ```ts
 * import { buildBinary, parseBinary, uid } from '@mdmkit/plist';
 * parseBinary(buildBinary({ root: uid(7) })); // { root: PlistUid { value: 7 } }
 * ```
 */
export class PlistUid {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/**
 * Makes a UID; `n` must be an integer in 0 … 2^53−1.
 *
 * @throws {@link PlistParseError} `INVALID_VALUE` for any other `n`.
 * @example
 * ```ts
 * import { uid } from '@mdmkit/plist';
 * const ref = uid(3);
 * ```
 */
export function uid(n: number): PlistUid {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new PlistParseError('INVALID_VALUE', `UID must be an integer in 0 … 2^53-1, got ${n}`);
  return new PlistUid(n);
}

/**
 * Any property list value.
 *
 * | plist | JS |
 * |---|---|
 * | integer | `number` when safe, else `bigint` (−2^63 … 2^64−1) |
 * | real | `number`, or {@link PlistReal} when integral (unless `reals: 'number'`) |
 * | string | `string` |
 * | true/false | `boolean` |
 * | date | `Date` (XML: whole seconds; binary: rounded to the millisecond) |
 * | data | `Uint8Array` |
 * | array | `PlistValue[]` |
 * | dict | {@link PlistDict} |
 * | UID (binary only) | {@link PlistUid} |
 */
export type PlistValue =
  | string
  | number
  | bigint
  | boolean
  | Date
  | Uint8Array
  | PlistReal
  | PlistUid
  | PlistValue[]
  | PlistDict;

/**
 * A dictionary: an ordinary object whose own enumerable string keys are the plist keys, in insertion
 * order (JavaScript lists integer-like keys such as `"1"` first, in numeric order). Keys such as
 * `__proto__` and `constructor` are ordinary own properties; parsing never changes a prototype.
 */
export interface PlistDict {
  [key: string]: PlistValue;
}

/** Sets `key` as an own data property, including `__proto__`, which plain assignment would not. */
export function setKey(dict: PlistDict, key: string, value: PlistValue): void {
  if (key === '__proto__') {
    Object.defineProperty(dict, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    dict[key] = value;
  }
}

/** Whether `n` is written as an integer (the one number rule). */
export function isIntegral(n: number): boolean {
  return Number.isSafeInteger(n) && !Object.is(n, -0);
}

/** Seconds between 1970-01-01 and 2001-01-01, the binary format's epoch. */
export const APPLE_EPOCH_MS = 978307200000;
