// JSON answers of the admin API.
import type { HttpResponse } from '@mdmkit/http';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * A JSON response. @internal
 *
 * @example
 * ```ts
 * jsonResponse(200, { ok: true }).headers; // content-type application/json
 * ```
 */
export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    status,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(value),
  };
}

/**
 * A JSON error: `{ "error": { "code", "message" } }`. @internal
 *
 * @example
 * ```ts
 * jsonError(404, 'NOT_FOUND', 'no such enrollment');
 * ```
 */
export function jsonError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): HttpResponse {
  return jsonResponse(status, { error: { code, message } }, headers);
}

/**
 * Base64 of bytes. @internal
 *
 * @example
 * ```ts
 * base64(new Uint8Array([1, 2])); // 'AQI='
 * ```
 */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
