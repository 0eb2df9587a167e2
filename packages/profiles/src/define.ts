import { PlistReal, real } from '@mdmkit/plist';
import type { Support } from '@mdmkit/protocol';
import { z } from 'zod';
import { validatePayloadContent } from './validate';

/**
 * Used by generated code for keys the schema types as real: takes a number or a `PlistReal`, checks
 * its value with `inner`, and gives a `PlistReal`, so that a whole number is written as `<real>`.
 *
 * @example
 * ```ts
 * plistReal(z.number().min(0).max(1)).parse(1); // PlistReal { value: 1 }
 * ```
 */
export function plistReal<N extends number>(inner: z.ZodType<N>): z.ZodType<N | PlistReal> {
  return z.preprocess((v) => (v instanceof PlistReal ? v.value : v), inner).transform((n) => real(n));
}

/**
 * Identity of one payload inside its profile. Everything is optional: the profile assembler derives a
 * PayloadIdentifier from the profile's identifier and a PayloadUUID (random, or stable on request).
 */
export interface PayloadOptions {
  /** PayloadIdentifier; default `<profile identifier>.<PayloadType>` (with `.2`, `.3` … for repeats). */
  identifier?: string;
  /** PayloadUUID; default random, or derived from the identifiers with `stableIdentifiers`. */
  uuid?: string;
  displayName?: string;
  description?: string;
  organization?: string;
}

/** A validated payload ready for {@link buildProfile}: its type, its own keys and its identity. */
export interface Payload<T extends string = string, C extends object = object> {
  readonly payloadType: T;
  readonly content: C;
  readonly options: Readonly<PayloadOptions>;
}

/** What the generator knows about one payload type. */
export interface PayloadDefinition<T extends string = string, C extends object = object> {
  readonly payloadType: T;
  /** Validator of the payload's own keys (the common Payload* keys are the assembler's). */
  readonly schema: z.ZodType<C>;
  /** The keys the schema release names for this type, in schema order. */
  readonly keys: readonly string[];
  /** The schema files in Apple's repository at the pinned release (several for a merged type). */
  readonly sources: readonly string[];
  readonly support: Support;
  /** Per OS: whether one profile may hold more than one payload of this type. */
  readonly multiple: Readonly<Partial<Record<string, boolean>>>;
  /**
   * Validates `content` and returns the payload with a copy of it as validated (keys typed as real
   * become `PlistReal`; later changes to `content` do not reach the payload).
   */
  build(content: C, options?: PayloadOptions): Payload<T, C>;
}

/**
 * Used by generated code: binds a definition's facts to its builder.
 *
 * @example
 * ```ts
 * const ExampleDefinition = definePayload<'com.example.settings', { Enabled: boolean }>({
 *   payloadType: 'com.example.settings',
 *   schema: z.looseObject({ Enabled: z.boolean() }),
 *   keys: ['Enabled'],
 *   sources: [],
 *   support: { macOS: { introduced: '13.0' } },
 *   multiple: {},
 * });
 * ExampleDefinition.build({ Enabled: true });
 * ```
 */
export function definePayload<T extends string, C extends object>(
  def: Omit<PayloadDefinition<T, C>, 'build'>,
): PayloadDefinition<T, C> {
  return {
    ...def,
    build(content: C, options: PayloadOptions = {}): Payload<T, C> {
      const checked = validatePayloadContent(def.payloadType, def.schema, content);
      return Object.freeze({
        payloadType: def.payloadType,
        content: checked,
        options: Object.freeze({ ...options }),
      });
    },
  };
}
