import { HttpError, type HttpErrorCode } from './errors';
import type { AdapterConfig } from './options';
import type { Handler, HttpRequest, HttpResponse } from './types';

const encoder = new TextEncoder();

/**
 * A plain-text answer (a line ending in a newline), as the adapters give on their own: it says what
 * happened and nothing more. Frozen, so it can be built once and returned many times.
 *
 * @example
 * ```ts
 * import { textResponse } from '@mdmkit/http';
 * const gone = textResponse(410, 'this enrollment was removed');
 * const handler = () => gone;
 * ```
 */
export function textResponse(status: number, message: string): HttpResponse {
  return Object.freeze({
    status,
    headers: Object.freeze({ 'content-type': 'text/plain; charset=utf-8' }),
    body: encoder.encode(`${message}\n`),
  });
}

/** The adapters' own answers, built once. */
export const ANSWERS = {
  badRequest: textResponse(400, 'bad request'),
  notFound: textResponse(404, 'not found'),
  timeout: textResponse(408, 'request body timeout'),
  tooLarge: textResponse(413, 'request body too large'),
  internal: textResponse(500, 'internal error'),
} as const;

function failed(code: HttpErrorCode, message: string, cause: unknown, config: AdapterConfig): HttpResponse {
  config.onError(new HttpError(code, message, { cause }));
  return ANSWERS.internal;
}

function checked(r: HttpResponse, config: AdapterConfig): HttpResponse {
  if (
    typeof r === 'object' &&
    r !== null &&
    Number.isInteger(r.status) &&
    r.status >= 200 &&
    r.status <= 599 &&
    (r.body === undefined || typeof r.body === 'string' || r.body instanceof Uint8Array) &&
    (r.headers === undefined || (typeof r.headers === 'object' && r.headers !== null))
  ) {
    return r;
  }
  return failed('BAD_RESPONSE', 'handler returned an invalid response', r, config);
}

/**
 * Runs a handler and always ends with a valid response: a throw, a rejection or a malformed answer
 * becomes the one plain 500 (the details go to `onError`, never to the client). A synchronous
 * answer stays synchronous, so no promise is made when none is needed.
 */
export function callHandler(
  handler: Handler,
  request: HttpRequest,
  config: AdapterConfig,
): HttpResponse | Promise<HttpResponse> {
  let out: HttpResponse | Promise<HttpResponse>;
  try {
    out = handler(request);
  } catch (cause) {
    return failed('HANDLER_FAILED', 'handler threw', cause, config);
  }
  if (out instanceof Promise) {
    return out.then(
      (r) => checked(r, config),
      (cause) => failed('HANDLER_FAILED', 'handler rejected', cause, config),
    );
  }
  return checked(out, config);
}

/** Statuses that never carry a body. */
export function bodyless(status: number): boolean {
  return status === 204 || status === 205 || status === 304;
}
