import { createHash, randomUUID } from 'node:crypto';

/** Namespace of the name-based UUIDs {@link stableUuid} derives (a fixed random UUID of this package). */
const NAMESPACE = Buffer.from('6f1c2a4e9b3d4c8a8e5f0a7b3c9d2e41', 'hex');

/**
 * A name-based UUID (RFC 9562 version 5) for `name`: the same name always gives the same UUID, so a
 * profile rebuilt from the same input replaces itself on the device instead of installing beside it.
 * SHA-1 here only spreads names over the UUID space; nothing relies on it being hard to invert.
 *
 * @example
 * ```ts
 * stableUuid('com.example.wifi/com.example.wifi.com.apple.wifi.managed'); // same value on every run
 * ```
 */
export function stableUuid(name: string): string {
  const h = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex').toUpperCase();
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * A random UUID in the upper-case form Apple's tools write.
 *
 * @example
 * ```ts
 * newUuid(); // '3F2504E0-4F89-41D3-9A0C-0305E82C3301'
 * ```
 */
export function newUuid(): string {
  return randomUUID().toUpperCase();
}
