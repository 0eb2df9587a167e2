import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The header carrying a webhook's signature: the base64 HMAC-SHA256 of the exact body bytes, keyed
 * with the shared secret (the scheme NanoHUB's webhook uses).
 */
export const WEBHOOK_SIGNATURE_HEADER = 'X-Hmac-Signature';

const key = (secret: string | Uint8Array): Buffer =>
  typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);

/**
 * Signs a webhook body: base64 HMAC-SHA256 over its exact bytes.
 *
 * @example
 * ```ts
 * import { signWebhookBody } from '@mdmkit/server';
 * const signature = signWebhookBody('shared secret', new TextEncoder().encode('{"topic":"mdm.Connect"}'));
 * ```
 */
export function signWebhookBody(secret: string | Uint8Array, body: Uint8Array | string): string {
  return createHmac('sha256', key(secret)).update(body).digest('base64');
}

/**
 * Verifies a webhook delivery: true only when `signature` (the {@link WEBHOOK_SIGNATURE_HEADER}
 * value) is the HMAC-SHA256 of exactly these body bytes under `secret`. Compares in constant time.
 * Verify the raw bytes you received, before parsing them: re-serialised JSON is other bytes.
 *
 * @example
 * ```ts
 * import { verifyWebhookSignature } from '@mdmkit/server';
 * // in your receiver, with the raw body bytes:
 * if (!verifyWebhookSignature('shared secret', rawBody, request.headers['x-hmac-signature'])) {
 *   // answer 401 and drop it
 * }
 * ```
 */
export function verifyWebhookSignature(
  secret: string | Uint8Array,
  body: Uint8Array | string,
  signature: string | null | undefined,
): boolean {
  if (typeof signature !== 'string' || signature.length === 0 || signature.length > 128) return false;
  const expected = createHmac('sha256', key(secret)).update(body).digest();
  const given = Buffer.from(signature.trim(), 'base64');
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}
