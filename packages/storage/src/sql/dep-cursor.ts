// The DEP cursor operations for every SQL dialect: checks, the missing-token error and the row
// mapping; a dialect hands in its read and its fenced reset.
import type { DepCursorRecord } from '../dep';
import { checkKey, type StorageLimits } from '../limits';
import { depTokenNotFound, toDepCursor } from './dep';

/**
 * The cursor of DEP token `tokenName` (undefined before the first sync); throws NOT_FOUND for an
 * unknown token. `read` returns the token row with `name`, `cursor`, `phase`, `cursor_fence` and
 * `cursor_updated_at`, or undefined.
 */
export async function depCursorOf(
  limits: StorageLimits,
  tokenName: string,
  read: (tokenName: string) => Promise<Record<string, unknown> | undefined>,
): Promise<DepCursorRecord | undefined> {
  checkKey('token name', tokenName, limits.maxKeyLength);
  const row = await read(tokenName);
  if (!row) throw depTokenNotFound(tokenName);
  return toDepCursor(row);
}
