import type { ActivationLockBypassCodeResponse } from '@mdmkit/commands';
import { formatBypassCode, parseBypassCode } from './bypass-code';
import { EscrowError } from './errors';
import { SecretKind } from './kinds';
import type { SecretVault } from './vault';

/**
 * Stores a bypass code (ours, or one a device reported) sealed, in its canonical dashed form.
 *
 * @throws EscrowError `INVALID_BYPASS_CODE` for text that is not a code (nothing is stored).
 * @example
 * ```ts
 * const { code, hash } = await createBypassCode();
 * await storeBypassCode(vault, udid, code); // and give `hash` to Apple when enabling Activation Lock
 * ```
 */
export async function storeBypassCode(
  vault: SecretVault,
  udid: string,
  code: string,
): Promise<{ version: number }> {
  const canonical = formatBypassCode(parseBypassCode(code));
  return vault.put(udid, SecretKind.activationLockBypassCode, canonical);
}

/**
 * Stores the code a device returned for the `ActivationLockBypassCode` command.
 *
 * @throws EscrowError `INVALID_RESPONSE` when the response has no code, `INVALID_BYPASS_CODE` when it
 * is not one; nothing is stored then.
 * @example
 * ```ts
 * const report = decodeReportFor('ActivationLockBypassCode', body);
 * if (report.response) await escrowBypassCodeResponse(vault, udid, report.response);
 * ```
 */
export async function escrowBypassCodeResponse(
  vault: SecretVault,
  udid: string,
  response: ActivationLockBypassCodeResponse,
): Promise<{ version: number }> {
  const code = response?.ActivationLockBypassCode;
  if (typeof code !== 'string') {
    throw new EscrowError('INVALID_RESPONSE', 'the ActivationLockBypassCode response has no code');
  }
  return storeBypassCode(vault, udid, code);
}
