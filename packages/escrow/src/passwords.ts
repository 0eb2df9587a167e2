import { randomBytes } from 'node:crypto';
import { EscrowError } from './errors';

/** Letters and digits without look-alikes (0/O, 1/l/I): easy to read out over the phone. */
export const DEFAULT_PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** Options of {@link generatePassword}. */
export interface PasswordOptions {
  /** Distinct characters to draw from (2–256). Default {@link DEFAULT_PASSWORD_ALPHABET}. */
  alphabet?: string;
  /** Characters in the password (1–1024). Default 20. */
  length?: number;
}

/**
 * A random password from the system's cryptographic generator. Every character of the alphabet is
 * equally likely: random bytes that would favour the first characters (the remainder of 256 divided
 * by the alphabet size) are thrown away and drawn again, never folded in with a modulo.
 *
 * @example
 * ```ts
 * generatePassword({ length: 24 });
 * generatePassword({ alphabet: '0123456789', length: 8 });
 * ```
 */
export function generatePassword(options: PasswordOptions = {}): string {
  const alphabet = [...(options.alphabet ?? DEFAULT_PASSWORD_ALPHABET)];
  const length = options.length ?? 20;
  if (alphabet.length < 2 || alphabet.length > 256 || new Set(alphabet).size !== alphabet.length) {
    throw new EscrowError('INVALID_INPUT', 'the alphabet needs 2 to 256 distinct characters');
  }
  if (!Number.isSafeInteger(length) || length < 1 || length > 1024) {
    throw new EscrowError('INVALID_INPUT', 'length must be an integer from 1 to 1024');
  }
  // The largest multiple of the alphabet size that fits in a byte; bytes at or above it are redrawn.
  const limit = 256 - (256 % alphabet.length);
  const out: string[] = [];
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b >= limit) continue;
      out.push(alphabet[b % alphabet.length]!);
      if (out.length === length) break;
    }
  }
  return out.join('');
}
