import { type Certificate, CryptoError, decryptCms } from '@mdmkit/crypto';
import { EscrowError } from './errors';
import { type EscrowKeyring, escrowRecipients } from './escrow-keyring';

/** Largest CMS message a device may send for a recovery key (a few hundred bytes in practice). */
export const MAX_ESCROW_CMS_BYTES = 64 * 1024;
/** Longest recovery key accepted after decryption. */
const MAX_RECOVERY_KEY_CHARS = 256;

/**
 * Decrypts a recovery key a Mac encrypted to one of our escrow certificates (current or earlier) and
 * checks that the result is printable text. CBC has no integrity check: damage that leaves valid
 * padding but yields bytes that are not text is refused, but a change to the IV or to an earlier block
 * changes characters predictably and cannot be detected — nor could any check tell, since whoever has
 * the (public) escrow certificate can encrypt any text. What vouches for the key is the device
 * identity checked on the report that carried it. Internal: callers store the result at once through
 * the vault.
 *
 * @example
 * ```ts
 * const { recoveryKey, certificate } = await decryptRecoveryKey(keyring, info.FDE_PersonalRecoveryKeyCMS);
 * ```
 */
export async function decryptRecoveryKey(
  keyring: EscrowKeyring,
  cms: Uint8Array,
): Promise<{ recoveryKey: string; certificate: Certificate }> {
  if (!(cms instanceof Uint8Array) || cms.length === 0) {
    throw new EscrowError('INVALID_RESPONSE', 'the encrypted recovery key is missing or not bytes');
  }
  if (cms.length > MAX_ESCROW_CMS_BYTES) {
    throw new EscrowError(
      'INVALID_RESPONSE',
      `the encrypted recovery key is larger than ${MAX_ESCROW_CMS_BYTES} bytes`,
    );
  }
  const recipients = await escrowRecipients(keyring);
  let content: Uint8Array;
  let certificate: Certificate;
  try {
    const out = await decryptCms(cms, { recipients });
    content = out.content;
    certificate = out.recipient;
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'NO_MATCHING_RECIPIENT') {
      throw new EscrowError(
        'NO_ESCROW_KEY',
        'the recovery key is encrypted for a certificate this server does not hold',
        {
          cause: e,
        },
      );
    }
    if (
      e instanceof CryptoError &&
      (e.code === 'INVALID_CMS' || e.code === 'INVALID_DER' || e.code === 'INVALID_PEM')
    ) {
      throw new EscrowError(
        'INVALID_RESPONSE',
        'the encrypted recovery key is not a CMS EnvelopedData message',
        {
          cause: e,
        },
      );
    }
    throw new EscrowError('DECRYPT_FAILED', 'the encrypted recovery key does not decrypt', { cause: e });
  }
  const text = Buffer.from(content).toString('latin1').trim();
  if (text.length === 0 || text.length > MAX_RECOVERY_KEY_CHARS || !/^[\x20-\x7e]+$/.test(text)) {
    throw new EscrowError('DECRYPT_FAILED', 'the encrypted recovery key does not decrypt');
  }
  return { recoveryKey: text, certificate };
}
