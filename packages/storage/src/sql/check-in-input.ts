// The check-in writes' input checks for every SQL dialect: each returns the values the dialect
// binds, checked and normalised (absent optional text as null), so a dialect holds only its upserts.
import type { AuthenticateInput, TokenUpdateInput, UserAuthenticateInput } from '../enrollment';
import { StorageError } from '../errors';
import { checkBytes, checkKey, type StorageLimits } from '../limits';
import { type CheckedOutboxEvent, checkOutboxEvents } from '../outbox';
import { checkTokenUpdate } from './check-in';
import { optionalText } from './values';

type Limits = { readonly limits: StorageLimits };

function raw(ctx: Limits, b: Uint8Array | undefined): Uint8Array | null {
  checkBytes('raw check-in message', b, ctx.limits.maxBlobBytes);
  return b ?? null;
}

/** An Authenticate's values. */
export interface CheckedAuthenticate {
  readonly id: string;
  readonly serialNumber: string | null;
  readonly topic: string | null;
  readonly raw: Uint8Array | null;
  readonly events: readonly CheckedOutboxEvent[];
}

/** Checks an Authenticate. */
export function checkAuthenticate(ctx: Limits, input: AuthenticateInput): CheckedAuthenticate {
  checkKey('enrollment id', input?.id, ctx.limits.maxKeyLength);
  return {
    id: input.id,
    serialNumber: optionalText(ctx, 'serialNumber', input.serialNumber),
    topic: optionalText(ctx, 'topic', input.topic),
    raw: raw(ctx, input.raw),
    events: checkOutboxEvents(ctx.limits, input.outbox),
  };
}

/** The user fields a TokenUpdate or a UserAuthenticate carries. */
export interface CheckedUserFields {
  readonly userId: string | null;
  readonly userShortName: string | null;
  readonly userLongName: string | null;
}

function userFields(
  ctx: Limits,
  input: { userId?: string; userShortName?: string; userLongName?: string },
): CheckedUserFields {
  return {
    userId: optionalText(ctx, 'userId', input.userId),
    userShortName: optionalText(ctx, 'userShortName', input.userShortName),
    userLongName: optionalText(ctx, 'userLongName', input.userLongName),
  };
}

/** A TokenUpdate's values. */
export interface CheckedTokenUpdate extends CheckedUserFields {
  readonly id: string;
  readonly channel: TokenUpdateInput['channel'];
  readonly deviceId: string;
  readonly topic: string;
  readonly pushToken: string;
  readonly pushMagic: string;
  readonly unlockToken: Uint8Array | null;
  readonly raw: Uint8Array | null;
  readonly at: Date;
  readonly events: readonly CheckedOutboxEvent[];
}

/** Checks a TokenUpdate (see `checkTokenUpdate` for the channel rules). */
export function checkTokenUpdateInput(ctx: Limits, input: TokenUpdateInput): CheckedTokenUpdate {
  const deviceId = checkTokenUpdate(ctx.limits, input);
  return {
    id: input.id,
    channel: input.channel,
    deviceId,
    ...userFields(ctx, input),
    topic: input.topic,
    pushToken: input.pushToken,
    pushMagic: input.pushMagic,
    unlockToken: input.unlockToken ?? null,
    raw: raw(ctx, input.raw),
    at: new Date(),
    events: checkOutboxEvents(ctx.limits, input.outbox),
  };
}

/** A UserAuthenticate's values. */
export interface CheckedUserAuthenticate extends CheckedUserFields {
  readonly id: string;
  readonly deviceId: string;
  readonly raw: Uint8Array | null;
  readonly at: Date;
  readonly events: readonly CheckedOutboxEvent[];
}

/** Checks a UserAuthenticate. */
export function checkUserAuthenticate(ctx: Limits, input: UserAuthenticateInput): CheckedUserAuthenticate {
  checkKey('enrollment id', input?.id, ctx.limits.maxKeyLength);
  checkKey('deviceId', input.deviceId, ctx.limits.maxKeyLength);
  const events = checkOutboxEvents(ctx.limits, input.outbox);
  return {
    id: input.id,
    deviceId: input.deviceId,
    ...userFields(ctx, input),
    raw: raw(ctx, input.raw),
    at: new Date(),
    events,
  };
}

/** Checks a bootstrap token write. */
export function checkBootstrapToken(ctx: Limits, id: string, token: Uint8Array): void {
  checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  if (!(token instanceof Uint8Array))
    throw new StorageError('INVALID_INPUT', 'bootstrap token must be bytes');
  checkBytes('bootstrap token', token, ctx.limits.maxBlobBytes);
}

/** The error of a bootstrap token write for an enrollment that does not exist. */
export function enrollmentNotFound(id: string): StorageError {
  return new StorageError('NOT_FOUND', `no enrollment ${JSON.stringify(id)}`);
}

/** Checks an enrollment id and a certificate hash. */
export function checkCertificateAssociation(ctx: Limits, id: string, certHash: string): void {
  checkKey('enrollment id', id, ctx.limits.maxKeyLength);
  checkKey('certificate hash', certHash, ctx.limits.maxKeyLength);
}

/**
 * The certificate lookups on a dialect's one query: the enrollment a certificate hash is associated
 * with, if any.
 *
 * @example
 * ```ts
 * export const { enrollmentForCertificate, isCertificateAssociated } = certificateLookups<Ctx>(ownerOf);
 * ```
 */
export function certificateLookups<C extends Limits>(
  ownerOf: (ctx: C, certHash: string) => Promise<string | undefined>,
): {
  enrollmentForCertificate(ctx: C, certHash: string): Promise<string | undefined>;
  isCertificateAssociated(ctx: C, id: string, certHash: string): Promise<boolean>;
} {
  return {
    async enrollmentForCertificate(ctx, certHash) {
      checkKey('certificate hash', certHash, ctx.limits.maxKeyLength);
      return ownerOf(ctx, certHash);
    },
    async isCertificateAssociated(ctx, id, certHash) {
      checkCertificateAssociation(ctx, id, certHash);
      return (await ownerOf(ctx, certHash)) === id;
    },
  };
}

/**
 * A TokenUpdate's values in the order the dialects' upserts bind them: id, channel, device_id,
 * user_id, user_short_name, user_long_name, topic, push_token, push_magic, unlock_token,
 * last_checkin_raw, then the time of the write.
 */
export function tokenUpdateValues(t: CheckedTokenUpdate): (string | Uint8Array | Date | null)[] {
  return [
    t.id,
    t.channel,
    t.deviceId,
    t.userId,
    t.userShortName,
    t.userLongName,
    t.topic,
    t.pushToken,
    t.pushMagic,
    t.unlockToken,
    t.raw,
    t.at,
  ];
}
