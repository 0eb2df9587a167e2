import { SecretKind } from './kinds';
import type { SecretVault } from './vault';

/**
 * Keeps the bootstrap token a Mac sent with SetBootstrapToken, sealed. An empty token means the Mac
 * removed it, so the stored one is deleted.
 *
 * @example
 * ```ts
 * await storeBootstrapToken(vault, udid, message.BootstrapToken);
 * ```
 */
export async function storeBootstrapToken(
  vault: SecretVault,
  udid: string,
  token: Uint8Array,
): Promise<void> {
  if (token.length === 0) await vault.delete(udid, SecretKind.bootstrapToken);
  else await vault.put(udid, SecretKind.bootstrapToken, token);
}

/**
 * The token to answer a Mac's GetBootstrapToken with, or undefined when none is escrowed. The read is
 * recorded with the device as actor.
 *
 * @example
 * ```ts
 * const token = await bootstrapTokenForDevice(vault, udid);
 * ```
 */
export async function bootstrapTokenForDevice(
  vault: SecretVault,
  udid: string,
): Promise<Uint8Array | undefined> {
  if (!(await vault.has(udid, SecretKind.bootstrapToken))) return undefined;
  const r = await vault.read({
    owner: udid,
    kind: SecretKind.bootstrapToken,
    actor: `device:${udid}`,
    reason: 'GetBootstrapToken check-in',
  });
  return r.value;
}
