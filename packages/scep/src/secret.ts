import { createHash, timingSafeEqual } from 'node:crypto';

const encoder = new TextEncoder();

/** Lowercase hex SHA-256 of a UTF-8 string: how challenges are kept, so a stored hash never reveals one. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Constant-time string equality. Both sides are hashed first so that neither the comparison nor an
 * early length check leaks how much of a guess was right.
 */
export function secretEquals(a: string, b: string): boolean {
  const ha = createHash('sha256').update(encoder.encode(a)).digest();
  const hb = createHash('sha256').update(encoder.encode(b)).digest();
  return timingSafeEqual(ha, hb);
}
