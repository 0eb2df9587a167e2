/**
 * Bounds applied while parsing, so that a hostile document fails fast with a
 * `PlistParseError` (`code: 'LIMIT_EXCEEDED'`) instead of exhausting memory or the stack.
 *
 * @example
 * ```ts
 * import { parse } from '@mdmkit/plist';
 * // A body known to share one large data object many times: allow more expansion than the default.
 * parse(body, { limits: { maxBytes: 1024 * 1024, maxExpansion: 256 } });
 * ```
 */
export interface PlistLimits {
  /** Largest accepted input, in bytes. Default 256 MiB. */
  maxBytes: number;
  /** Deepest nesting of arrays and dicts. Default 512. */
  maxDepth: number;
  /** Most values produced (every scalar, array and dict counts one). Default 8,000,000. */
  maxObjects: number;
  /**
   * Binary only: how many bytes of values parsing may materialise per input byte. Default 32.
   *
   * A binary property list can refer to one object from many places, and every reference yields a
   * value of its own (a 46 KB document referring 30,000 times to one 16 KiB data object would make
   * 0.5 GB). The reader therefore counts, in approximate bytes of memory, what it makes: data and
   * string contents (a shared string at every reference), every array and dict rebuilt for a
   * reference, boxed values (dates, reals, wide integers, UIDs) and the slot each value takes in its
   * container; the budget is `maxExpansion`
   * times the input size, but at least {@link PlistLimits.minExpansionBytes}. Documents whose objects
   * are referenced once stay well below it.
   */
  maxExpansion: number;
  /** Binary only: the least byte budget, whatever the input size (see `maxExpansion`). Default 4 MiB. */
  minExpansionBytes: number;
  /** Longest string, in UTF-16 code units. Default 64 Mi. */
  maxStringLength: number;
  /** Largest data value, in bytes. Default 128 MiB. */
  maxDataLength: number;
}

/** The limits used when none are given. */
export const defaultLimits: Readonly<PlistLimits> = Object.freeze({
  maxBytes: 256 * 1024 * 1024,
  maxDepth: 512,
  maxObjects: 8_000_000,
  maxExpansion: 32,
  minExpansionBytes: 4 * 1024 * 1024,
  maxStringLength: 64 * 1024 * 1024,
  maxDataLength: 128 * 1024 * 1024,
});

/** Options of the parsers. */
export interface ParseOptions {
  /**
   * `'exact'` (default): integral reals come back as {@link PlistReal} so that they are written back as
   * reals. `'number'`: every real is a plain `number` (for schema-typed decoding).
   */
  reals?: 'exact' | 'number';
  /** Overrides of {@link defaultLimits}. */
  limits?: Partial<PlistLimits>;
}

export function resolveLimits(l: Partial<PlistLimits> | undefined): PlistLimits {
  if (!l) return defaultLimits;
  return { ...defaultLimits, ...l };
}
