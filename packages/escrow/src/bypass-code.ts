import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { EscrowError } from './errors';

const pbkdf2Async = promisify(pbkdf2);

/** The 32 characters of a bypass code; 5 bits each, no B, I, O or S to avoid look-alikes. */
export const BYPASS_CODE_ALPHABET = '0123456789ACDEFGHJKLMNPQRTUVWXYZ';
/** Raw bytes behind a code. */
const RAW_BYTES = 16;
/** 26 characters carry 130 bits: the 128 of the raw bytes, most significant first, then two zero bits. */
const CODE_CHARS = 26;
/** A dash follows these character counts. */
const DASH_AFTER = [5, 10, 14, 18, 22];
const ITERATIONS = 50_000;
const SALT = new Uint8Array(4);

/** An Activation Lock bypass code in its three forms. */
export interface BypassCode {
  /** The human-readable code, e.g. `0123D-FGHJK-LMNP-QRTU-VWXY-Z012`. */
  code: string;
  /** The 16 random bytes it encodes. */
  bytes: Uint8Array;
  /** The escrow hash Apple is given (64 lowercase hex digits). */
  hash: string;
}

const VALUE_OF = new Map([...BYPASS_CODE_ALPHABET].map((c, i) => [c, i]));

/**
 * Writes 16 bytes as a bypass code: 5 bits per character, most significant bits first, dashes after
 * characters 5, 10, 14, 18 and 22.
 *
 * @example
 * ```ts
 * formatBypassCode(new Uint8Array(16)); // '00000-00000-0000-0000-0000-0000'
 * ```
 */
export function formatBypassCode(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array) || bytes.length !== RAW_BYTES) {
    throw new EscrowError('INVALID_BYPASS_CODE', `a bypass code encodes exactly ${RAW_BYTES} bytes`);
  }
  let out = '';
  let acc = 0;
  let bits = 0;
  let chars = 0;
  const emit = (v: number) => {
    out += BYPASS_CODE_ALPHABET[v]!;
    chars++;
    if (DASH_AFTER.includes(chars)) out += '-';
  };
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      emit((acc >>> bits) & 0x1f);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) emit((acc << (5 - bits)) & 0x1f);
  return out;
}

/**
 * Reads a bypass code back to its 16 bytes. Lenient about how a person typed it: letter case, dashes
 * anywhere and spaces are ignored. Refuses other characters, another length, and non-zero padding bits
 * (no code we or a device made has them).
 *
 * @throws EscrowError `INVALID_BYPASS_CODE`
 * @example
 * ```ts
 * parseBypassCode('00000-00000-0000-0000-0000-0000'); // 16 zero bytes
 * ```
 */
export function parseBypassCode(code: string): Uint8Array {
  if (typeof code !== 'string' || code.length > 64) {
    throw new EscrowError('INVALID_BYPASS_CODE', 'a bypass code is a string of 26 characters');
  }
  const chars = code.toUpperCase().replace(/[-\s]/g, '');
  if (chars.length !== CODE_CHARS) {
    throw new EscrowError(
      'INVALID_BYPASS_CODE',
      `a bypass code has ${CODE_CHARS} characters, not ${chars.length}`,
    );
  }
  const out = new Uint8Array(RAW_BYTES);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const c of chars) {
    const v = VALUE_OF.get(c);
    if (v === undefined)
      throw new EscrowError('INVALID_BYPASS_CODE', 'a bypass code holds a character outside its alphabet');
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >>> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) {
    throw new EscrowError('INVALID_BYPASS_CODE', 'the padding bits of a bypass code must be zero');
  }
  return out;
}

/**
 * The escrow hash of a code's raw bytes: hex of PBKDF2-HMAC-SHA256 with a salt of four zero bytes,
 * 50 000 iterations, 32 bytes. Runs on libuv's thread pool, not the event loop.
 *
 * @example
 * ```ts
 * const hash = await bypassCodeHash(parseBypassCode(code));
 * ```
 */
export async function bypassCodeHash(bytes: Uint8Array): Promise<string> {
  if (!(bytes instanceof Uint8Array) || bytes.length !== RAW_BYTES) {
    throw new EscrowError('INVALID_BYPASS_CODE', `a bypass code encodes exactly ${RAW_BYTES} bytes`);
  }
  const dk = await pbkdf2Async(bytes, SALT, ITERATIONS, 32, 'sha256');
  return dk.toString('hex');
}

/**
 * A new bypass code from 16 bytes of the system's cryptographic random generator.
 *
 * @example
 * ```ts
 * const { code, hash } = await createBypassCode();
 * ```
 */
export async function createBypassCode(): Promise<BypassCode> {
  const bytes = new Uint8Array(randomBytes(RAW_BYTES));
  return { code: formatBypassCode(bytes), bytes, hash: await bypassCodeHash(bytes) };
}

/**
 * Whether `code` is the code behind `hash`. The comparison takes the same time wherever the hashes
 * differ. A malformed code is simply not a match; a malformed hash is an error (it is ours).
 *
 * @throws EscrowError `INVALID_BYPASS_CODE` when `hash` is not 64 hex digits.
 * @example
 * ```ts
 * if (await verifyBypassCode(typed, stored.hash)) unlock();
 * ```
 */
export async function verifyBypassCode(code: string, hash: string): Promise<boolean> {
  if (typeof hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hash)) {
    throw new EscrowError('INVALID_BYPASS_CODE', 'a bypass-code hash is 64 hex digits');
  }
  let bytes: Uint8Array;
  try {
    bytes = parseBypassCode(code);
  } catch {
    return false;
  }
  const actual = Buffer.from(await bypassCodeHash(bytes), 'hex');
  return timingSafeEqual(actual, Buffer.from(hash, 'hex'));
}
