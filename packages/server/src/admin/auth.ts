import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpRequest } from '@mdmkit/http';
import { ServerError } from '../errors';

/**
 * What a route needs: `read` (enrollments, queues, results, the push certificate's public part),
 * `write` (enqueue, push, clear a queue) or `secrets` (upload a push certificate with its key).
 */
export type AdminPermission = 'read' | 'write' | 'secrets';

/** Who is calling, as the authorizer established it. */
export interface AdminPrincipal {
  /** A stable name for logs and audit events (never the credential itself). */
  id: string;
}

/** What an authorizer decides for one request. */
export type AdminDecision =
  | { allow: true; principal: AdminPrincipal }
  /** 401: no or wrong credential; 403: a known caller without the route's permission. */
  | { allow: false; status: 401 | 403; reason: string };

/** What an authorizer sees of the route being called. */
export interface AdminRouteInfo {
  id: string;
  method: string;
  path: string;
  permission: AdminPermission;
}

/**
 * Decides whether a request may call a route. Replace it to map roles (admin, maintainer, observer)
 * onto route permissions, or to check tokens against your identity provider.
 */
export type AdminAuthorizer = (
  request: HttpRequest,
  route: AdminRouteInfo,
) => AdminDecision | Promise<AdminDecision>;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Compares two secrets in constant time: both are hashed first, so neither their contents nor
 * their lengths show in the timing.
 *
 * @example
 * ```ts
 * import { secretsEqual } from '@mdmkit/server';
 * secretsEqual('a', 'a'); // true
 * ```
 */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The credential of a request: `Authorization: Bearer <token>`, `X-API-Key: <key>`, or the password
 * of HTTP basic auth (any user name). Undefined when none is given.
 *
 * @example
 * ```ts
 * const key = presentedCredential(request);
 * ```
 */
export function presentedCredential(request: HttpRequest): string | undefined {
  const auth = request.headers.get('authorization');
  if (auth) {
    const [scheme, value] = [auth.slice(0, auth.indexOf(' ')), auth.slice(auth.indexOf(' ') + 1).trim()];
    if (/^bearer$/i.test(scheme) && value) return value;
    if (/^basic$/i.test(scheme) && value) return basicPassword(value);
    return undefined;
  }
  return request.headers.get('x-api-key') || undefined;
}

/**
 * The user and password of a basic credential (`base64(user:password)`), or undefined.
 *
 * @example
 * ```ts
 * basicCredentials(Buffer.from('nanomdm:key').toString('base64')); // { user: 'nanomdm', password: 'key' }
 * ```
 */
export function basicCredentials(encoded: string): { user: string; password: string } | undefined {
  const text = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function basicPassword(encoded: string): string | undefined {
  return basicCredentials(encoded)?.password || undefined;
}

/**
 * True for a request a browser made on behalf of another site's page. Browsers attach cached basic
 * credentials by themselves, and a form or no-cors fetch with a text/plain body needs no CORS
 * preflight, so without this check any page an admin visits could call the API as them. Scripts
 * (curl, SDKs) send neither `Sec-Fetch-Site` nor `Origin`; a page on the API's own origin sends
 * `Sec-Fetch-Site: same-origin`. @internal
 *
 * @example
 * ```ts
 * if (crossSiteBrowserRequest(request)) return forbidden;
 * ```
 */
export function crossSiteBrowserRequest(request: HttpRequest): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site) return site !== 'same-origin' && site !== 'none';
  // A browser without Fetch Metadata still sends Origin on every cross-origin request.
  return Boolean(request.headers.get('origin'));
}

/** Shortest API key accepted: shorter ones are guessable. */
export const MIN_API_KEY_LENGTH = 16;

/**
 * The default authorizer: one API key, given as a bearer token, an `X-API-Key` header or a basic
 * auth password, compared in constant time. The key grants every permission.
 *
 * @example
 * ```ts
 * import { apiKeyAuthorizer } from '@mdmkit/server';
 * const authorize = apiKeyAuthorizer(process.env.MDM_API_KEY!);
 * ```
 */
export function apiKeyAuthorizer(apiKey: string, principal = 'api-key'): AdminAuthorizer {
  if (typeof apiKey !== 'string' || apiKey.length < MIN_API_KEY_LENGTH) {
    throw new ServerError('INVALID_OPTIONS', `the API key must be at least ${MIN_API_KEY_LENGTH} characters`);
  }
  return (request) => {
    const given = presentedCredential(request);
    if (given === undefined) return { allow: false, status: 401, reason: 'credential required' };
    if (!secretsEqual(given, apiKey)) return { allow: false, status: 401, reason: 'bad credential' };
    return { allow: true, principal: { id: principal } };
  };
}
