import { EscrowError } from './errors';
import { SecretKind } from './kinds';
import type { SecretVault } from './vault';

/**
 * Keeps the bootstrap token a Mac sent with SetBootstrapToken, sealed. A missing or empty token means
 * the Mac removed it (Apple: "If this field is missing or zero length, the bootstrap token should be
 * removed"), so the stored one is deleted.
 *
 * @throws EscrowError `INVALID_RESPONSE` when the token is neither absent nor data; nothing changes then.
 * @example
 * ```ts
 * await storeBootstrapToken(vault, udid, message.BootstrapToken);
 * ```
 */
export async function storeBootstrapToken(
  vault: SecretVault,
  udid: string,
  token: Uint8Array | undefined,
): Promise<void> {
  if (token === undefined || (token instanceof Uint8Array && token.length === 0)) {
    await vault.delete(udid, SecretKind.bootstrapToken);
  } else if (token instanceof Uint8Array) {
    await vault.put(udid, SecretKind.bootstrapToken, token);
  } else {
    throw new EscrowError('INVALID_RESPONSE', 'the bootstrap token is not data');
  }
}

/**
 * The token to answer a Mac's GetBootstrapToken with, or undefined when none is escrowed. Like every
 * read, it is an audit event under the actor the caller names: the device the request was
 * authenticated as (e.g. `device:<UDID>`), or whoever else asks.
 *
 * @throws EscrowError `INVALID_INPUT` without an actor.
 * @example
 * ```ts
 * const token = await bootstrapTokenForDevice(vault, udid, { actor: `device:${udid}` });
 * ```
 */
export async function bootstrapTokenForDevice(
  vault: SecretVault,
  udid: string,
  request: { actor: string; reason?: string },
): Promise<Uint8Array | undefined> {
  const actor = request?.actor;
  if (typeof actor !== 'string' || actor.trim() === '') {
    throw new EscrowError('INVALID_INPUT', 'actor must be a non-empty string');
  }
  if (!(await vault.has(udid, SecretKind.bootstrapToken))) return undefined;
  try {
    const r = await vault.read({
      owner: udid,
      kind: SecretKind.bootstrapToken,
      actor,
      reason: request.reason ?? 'GetBootstrapToken check-in',
    });
    return r.value;
  } catch (e) {
    // Removed by a SetBootstrapToken between the two calls: there is none to hand out.
    if (e instanceof EscrowError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}
