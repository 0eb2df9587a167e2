import type { HttpRequest, HttpResponse } from '@mdmkit/http';
import { ReferenceServerError } from './errors';

/** Largest JSON body the admin API reads. */
export const MAX_API_BODY_BYTES = 64 * 1024;

/**
 * A JSON answer.
 *
 * @example
 * ```ts
 * import { json } from '@mdmkit/reference-server';
 * console.log(json(200, { ok: true }).headers); // { 'content-type': 'application/json' }
 * ```
 */
export function json(status: number, body: unknown): HttpResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: `${JSON.stringify(body)}\n` };
}

/**
 * The request body as a JSON object; `BAD_REQUEST` for anything else or more than 64 KiB.
 *
 * @example
 * ```ts
 * const { name, role } = readJsonObject(request);
 * ```
 */
export function readJsonObject(request: HttpRequest): Record<string, unknown> {
  if (request.body.length > MAX_API_BODY_BYTES) {
    throw new ReferenceServerError('BAD_REQUEST', `the body is larger than ${MAX_API_BODY_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(request.body));
  } catch (e) {
    throw new ReferenceServerError('BAD_REQUEST', 'the body is not JSON', { cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ReferenceServerError('BAD_REQUEST', 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * The API's error answer: `{ error: { code, message } }`.
 *
 * @example
 * ```ts
 * import { errorResponse, ReferenceServerError } from '@mdmkit/reference-server';
 * console.log(errorResponse(new ReferenceServerError('NOT_FOUND', 'no user bob')).status); // 404
 * ```
 */
export function errorResponse(error: ReferenceServerError): HttpResponse {
  const response = json(error.status, { error: { code: error.code, message: error.message } });
  if (error.code === 'UNAUTHENTICATED') {
    return {
      ...response,
      headers: { ...response.headers, 'www-authenticate': 'Bearer, Basic realm="mdmkit"' },
    };
  }
  return response;
}
