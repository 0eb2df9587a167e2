import type { PlistDict } from '@mdmkit/plist';
import { parseBody } from './body';
import { ProtocolError } from './errors';
import { type ResolvedEnrollment, resolveEnrollmentId } from './enrollment-id';
import {
  type AuthenticateMessage,
  type CheckinMessageType,
  type CheckOutMessage,
  checkinSchemas,
  type DeclarativeManagementMessage,
  type GetBootstrapTokenMessage,
  type GetTokenMessage,
  type SetBootstrapTokenMessage,
  type TokenUpdateMessage,
  type UserAuthenticateMessage,
} from './generated/checkin';
import { type IdentityBlock, IdentityBlockSchema } from './identity';
import { describeValue, validate } from './validate';

/** The typed message of each known MessageType. */
export interface CheckinMessages {
  Authenticate: AuthenticateMessage;
  TokenUpdate: TokenUpdateMessage;
  CheckOut: CheckOutMessage;
  UserAuthenticate: UserAuthenticateMessage;
  SetBootstrapToken: SetBootstrapTokenMessage;
  GetBootstrapToken: GetBootstrapTokenMessage;
  DeclarativeManagement: DeclarativeManagementMessage;
  GetToken: GetTokenMessage;
}

/** A decoded check-in of a known MessageType. */
export type KnownCheckin = {
  [K in CheckinMessageType]: {
    messageType: K;
    /** The validated message: the received dictionary itself, typed (unknown keys included). */
    message: CheckinMessages[K];
    enrollment: ResolvedEnrollment;
    /** The dictionary as received (the same object as `message`, untyped). */
    raw: PlistDict;
  };
}[CheckinMessageType];

/**
 * A check-in whose MessageType no schema of this release describes (a newer OS, or a typo). Only
 * the identity block was validated; the caller decides (usually: answer 400 or ignore).
 */
export interface UnknownCheckin {
  messageType: 'Unknown';
  /** The MessageType string as sent. */
  rawMessageType: string;
  message: IdentityBlock;
  enrollment: ResolvedEnrollment;
  raw: PlistDict;
}

/** Result of {@link decodeCheckin}: discriminated by `messageType`. */
export type DecodedCheckin = KnownCheckin | UnknownCheckin;

function isKnown(t: string): t is CheckinMessageType {
  return Object.hasOwn(checkinSchemas, t);
}

/**
 * Decodes a check-in request body (XML or binary plist) into a typed message.
 *
 * Unknown keys are kept (`raw` and the loose message object); missing required keys or wrong types
 * throw {@link ProtocolError} `INVALID_MESSAGE` with the key path; a body without `UDID` or
 * `EnrollmentID` throws `MISSING_IDENTITY`.
 *
 * @example
 * ```ts
 * const checkin = decodeCheckin(await request.bytes());
 * switch (checkin.messageType) {
 *   case 'TokenUpdate':
 *     await savePushInfo(checkin.enrollment.id, checkin.message.Token, checkin.message.PushMagic);
 *     break;
 *   case 'Unknown':
 *     console.warn('unknown check-in', checkin.rawMessageType);
 * }
 * ```
 */
export function decodeCheckin(body: Uint8Array | string): DecodedCheckin {
  const raw = parseBody(body, 'check-in');
  return decodeCheckinDict(raw);
}

/**
 * {@link decodeCheckin} for a dictionary that is already parsed, with reals as plain numbers (parse
 * with `reals: 'number'`, as `decodeCheckin` does).
 *
 * @example
 * ```ts
 * const checkin = decodeCheckinDict(parse(body, { reals: 'number' }) as PlistDict);
 * ```
 */
export function decodeCheckinDict(raw: PlistDict): DecodedCheckin {
  const t = raw.MessageType;
  if (typeof t !== 'string') {
    validate(IdentityBlockSchema, raw, 'INVALID_MESSAGE', 'check-in');
    return invalidMessageType(t);
  }
  if (isKnown(t)) {
    const message = validate(
      checkinSchemas[t] as never,
      raw,
      'INVALID_MESSAGE',
      `${t} check-in`,
    ) as IdentityBlock;
    const enrollment = resolveEnrollmentId(message);
    return { messageType: t, message, enrollment, raw } as KnownCheckin;
  }
  const message = validate(IdentityBlockSchema, raw, 'INVALID_MESSAGE', 'check-in');
  return {
    messageType: 'Unknown',
    rawMessageType: t,
    message,
    enrollment: resolveEnrollmentId(message),
    raw,
  };
}

function invalidMessageType(t: unknown): never {
  throw new ProtocolError(
    'INVALID_MESSAGE',
    `check-in: MessageType: expected string, got ${describeValue(t)}`,
    {
      keyPath: ['MessageType'],
      issues: [
        { path: ['MessageType'], expected: 'string', got: describeValue(t), message: 'expected string' },
      ],
    },
  );
}
