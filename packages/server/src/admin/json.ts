// JSON answers of the admin API.
import type { HttpResponse } from '@mdmkit/http';

const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON response. @internal */
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

/** A JSON error: `{ "error": { "code", "message" } }`. @internal */
export function jsonError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): HttpResponse {
  return jsonResponse(status, { error: { code, message } }, headers);
}

/** Base64 of bytes. @internal */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
