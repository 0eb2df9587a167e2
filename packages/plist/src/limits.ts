/**
 * Bounds applied while parsing, so that a hostile document fails fast with a
 * `PlistParseError` (`code: 'LIMIT_EXCEEDED'`) instead of exhausting memory or the stack.
 */
export interface PlistLimits {
  /** Largest accepted input, in bytes. Default 256 MiB. */
  maxBytes: number;
  /** Deepest nesting of arrays and dicts. Default 512. */
  maxDepth: number;
  /**
   * Most values produced (every scalar, array and dict counts one). Default 8,000,000. A binary
   * property list can reference one container from many places; each reference yields a separate
   * value, so binary parsing also stops at twice the document's byte size in values (at least 4,096),
   * which no document without such repeated containers reaches.
   */
  maxObjects: number;
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
