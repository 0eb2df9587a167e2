import type { Payload, PayloadDefinition, PayloadOptions } from './define';
import { ProfileError } from './errors';
import { type PayloadType, payloadDefinitions } from './generated/registry';
import { validatePayloadContent } from './validate';
import { z } from 'zod';

/**
 * The definition of a payload type, or undefined when the schema release does not describe it.
 *
 * @example
 * ```ts
 * getPayloadDefinition('com.apple.security.scep')?.support.macOS?.introduced; // '10.7'
 * ```
 */
export function getPayloadDefinition(payloadType: string): PayloadDefinition | undefined {
  return Object.hasOwn(payloadDefinitions, payloadType)
    ? (payloadDefinitions[payloadType as PayloadType] as unknown as PayloadDefinition)
    : undefined;
}

/**
 * Whether the schema release describes `payloadType`.
 *
 * @example
 * ```ts
 * isKnownPayloadType('com.apple.wifi.managed'); // true
 * ```
 */
export function isKnownPayloadType(payloadType: string): payloadType is PayloadType {
  return Object.hasOwn(payloadDefinitions, payloadType);
}

/**
 * Every PayloadType of the schema release, sorted.
 *
 * @example
 * ```ts
 * listPayloadTypes().length; // 120
 * ```
 */
export function listPayloadTypes(): PayloadType[] {
  return Object.keys(payloadDefinitions) as PayloadType[];
}

/** The content type of a known payload type. */
export type PayloadContentOf<T extends PayloadType> =
  (typeof payloadDefinitions)[T] extends PayloadDefinition<string, infer C> ? C : never;

/**
 * Builds a payload of a type chosen at run time, validating its keys.
 *
 * @throws ProfileError `UNKNOWN_PAYLOAD_TYPE` when no schema describes the type (see {@link rawPayload});
 *   `INVALID_PAYLOAD` with the key path of the first problem.
 * @example
 * ```ts
 * const payload = buildPayload('com.apple.security.root', { PayloadContent: caDer });
 * ```
 */
export function buildPayload<T extends PayloadType>(
  payloadType: T,
  content: PayloadContentOf<T>,
  options?: PayloadOptions,
): Payload<T, PayloadContentOf<T>> {
  const def = getPayloadDefinition(payloadType);
  if (!def)
    throw new ProfileError(
      'UNKNOWN_PAYLOAD_TYPE',
      `no schema describes payload type ${String(payloadType).slice(0, 200)}`,
    );
  return def.build(content, options) as Payload<T, PayloadContentOf<T>>;
}

const anyDict = z.record(z.string(), z.unknown());

/**
 * A payload of a type the schema release does not describe yet (a newer OS's type, or a third-party
 * type): its keys are taken as given. Prefer the typed builders; this is the explicit way around them.
 *
 * @example
 * ```ts
 * const payload = rawPayload('com.apple.example.newtype', { Enabled: true });
 * ```
 */
export function rawPayload(
  payloadType: string,
  content: Record<string, unknown>,
  options: PayloadOptions = {},
): Payload<string, Record<string, unknown>> {
  if (typeof payloadType !== 'string' || payloadType.length === 0) {
    throw new ProfileError('INVALID_PAYLOAD', 'payload type must be a non-empty string', {
      keyPath: ['PayloadType'],
    });
  }
  validatePayloadContent(payloadType, anyDict, content);
  return Object.freeze({ payloadType, content, options: Object.freeze({ ...options }) });
}
