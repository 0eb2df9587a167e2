import type { z } from 'zod';
import { compileCheck } from './compiled-check';
import { ProtocolError, type ProtocolErrorCode, type ProtocolIssue } from './errors';

/**
 * Validates `value` with `schema` and returns `value` itself (typed), so keys no schema names stay
 * exactly as received. Turns zod's issues into a {@link ProtocolError} carrying the
 * key path. The message names keys and expected types only, never the values (they may be secrets).
 */
export function validate<T>(
  schema: z.ZodType<T>,
  value: unknown,
  code: ProtocolErrorCode,
  what: string,
  basePath: (string | number)[] = [],
): T {
  if (compileCheck(schema)(value)) return value as T;
  const r = schema.safeParse(value);
  if (r.success) return value as T;
  const issues: ProtocolIssue[] = r.error.issues.map((i) => ({
    path: [...basePath, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: i.message,
  }));
  const first = issues[0]!;
  const where = first.path.length ? first.path.join('.') : '(root)';
  throw new ProtocolError(code, `${what}: ${where}: ${first.message}`, {
    keyPath: first.path,
    issues,
    cause: r.error,
  });
}
