import {
  type GetBootstrapTokenResponse,
  GetBootstrapTokenResponseSchema,
  type GetTokenResponse,
  GetTokenResponseSchema,
} from './generated/checkin';
import { ProtocolError } from './errors';
import { validate } from './validate';
import { emptyResponse, plistResponse, type WireResponse } from './wire';

/**
 * Typed answers to check-in messages. Authenticate, TokenUpdate, CheckOut and SetBootstrapToken
 * are answered with {@link emptyResponse} (an empty 200).
 */

/**
 * Answer to GetBootstrapToken: the escrowed token, or an empty dictionary when none is stored.
 *
 * @example
 * ```ts
 * return getBootstrapTokenResponse({ BootstrapToken: await escrow.bootstrapToken(id) });
 * ```
 */
export function getBootstrapTokenResponse(body: GetBootstrapTokenResponse = {}): WireResponse {
  return plistResponse(
    validate(GetBootstrapTokenResponseSchema, body, 'INVALID_MESSAGE', 'GetBootstrapToken response'),
  );
}

/**
 * Answer to GetToken: the token data for the requested service.
 *
 * @example
 * ```ts
 * return getTokenResponse({ TokenData: new TextEncoder().encode(jwt) });
 * ```
 */
export function getTokenResponse(body: GetTokenResponse): WireResponse {
  return plistResponse(validate(GetTokenResponseSchema, body, 'INVALID_MESSAGE', 'GetToken response'));
}

/**
 * First answer to UserAuthenticate: a digest challenge. An empty string (the default) tells the
 * device that no further authentication is needed, so it sends the second UserAuthenticate at once.
 *
 * @example
 * ```ts
 * if (!checkin.message.DigestResponse) return userAuthenticateChallenge();
 * return userAuthenticateToken(await issueAuthToken(checkin.enrollment.id));
 * ```
 */
export function userAuthenticateChallenge(digestChallenge = ''): WireResponse {
  return plistResponse({ DigestChallenge: digestChallenge });
}

/**
 * Second answer to UserAuthenticate: the auth token the user channel uses from now on.
 *
 * @example
 * ```ts
 * return userAuthenticateToken(await issueAuthToken(checkin.enrollment.id));
 * ```
 */
export function userAuthenticateToken(authToken: string): WireResponse {
  return plistResponse({ AuthToken: authToken });
}

/**
 * 410 Gone to UserAuthenticate: the server declines to manage this user's channel.
 *
 * @example
 * ```ts
 * if (!managesUsers) return declineUserChannel(); // 410
 * ```
 */
export function declineUserChannel(): WireResponse {
  return { status: 410, headers: {}, body: new Uint8Array(0) };
}

/**
 * Answer to DeclarativeManagement: a JSON document (bytes are sent as-is, other values are
 * serialised), or an empty 200 when `document` is undefined.
 *
 * @example
 * ```ts
 * return declarativeManagementResponse(await declarations.tokens(checkin.enrollment.id));
 * ```
 */
export function declarativeManagementResponse(document?: unknown): WireResponse {
  if (document === undefined) return emptyResponse();
  const body = document instanceof Uint8Array ? document : new TextEncoder().encode(JSON.stringify(document));
  return { status: 200, headers: { 'content-type': 'application/json' }, body };
}

/**
 * 401 Unauthorized. A device that receives 401 on the check-in or server URL considers itself no
 * longer managed and may remove the MDM profile, so send it only for a device that was removed on
 * purpose (an admin unenrolled it or its record was deleted deliberately) — never for a transient
 * failure such as a storage outage, an expired session or a signature check that threw. Newer OS
 * versions take the 403 `com.apple.unrecognized.device` document ({@link unrecognizedDevice}) as the
 * same instruction; prefer it. The `deliberate: true` argument makes the intent visible at call sites.
 *
 * @example
 * ```ts
 * if (record?.removedByAdmin) return unauthorizedResponse({ deliberate: true });
 * ```
 */
export function unauthorizedResponse(options: { deliberate: true }): WireResponse {
  if (options?.deliberate !== true) {
    throw new ProtocolError('INVALID_ARGUMENT', 'unauthorizedResponse requires { deliberate: true }');
  }
  return { status: 401, headers: {}, body: new Uint8Array(0) };
}
