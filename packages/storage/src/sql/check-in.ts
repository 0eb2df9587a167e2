// Input checks of the check-in operations, the same in every dialect.
import type { TokenUpdateInput } from '../enrollment';
import { StorageError } from '../errors';
import { checkBytes, checkKey, type StorageLimits } from '../limits';

/**
 * Validates a TokenUpdate and returns the device id its row gets: the user channel's `deviceId`, or
 * the enrollment's own id for a device channel that names none.
 *
 * @example
 * ```ts
 * const deviceId = checkTokenUpdate(ctx.limits, input);
 * ```
 */
export function checkTokenUpdate(limits: StorageLimits, input: TokenUpdateInput): string {
  checkKey('enrollment id', input?.id, limits.maxKeyLength);
  if (input.channel !== 'device' && input.channel !== 'user') {
    throw new StorageError('INVALID_INPUT', `channel must be 'device' or 'user'`);
  }
  let deviceId = input.id;
  if (input.channel === 'user' || input.deviceId !== undefined) {
    checkKey('deviceId', input.deviceId, limits.maxKeyLength);
    deviceId = input.deviceId as string;
  }
  checkKey('topic', input.topic, limits.maxKeyLength);
  checkKey('pushToken', input.pushToken, limits.maxKeyLength);
  checkKey('pushMagic', input.pushMagic, limits.maxKeyLength);
  checkBytes('unlockToken', input.unlockToken, limits.maxBlobBytes);
  return deviceId;
}
