import type { z } from 'zod';
import { DeclarativeError, type DeclarativeErrorCode, type DeclarativeIssue } from './errors';

/** zod's issues as key paths and messages; never the values, which may be secrets. */
export function issuesOf(error: z.ZodError, basePath: (string | number)[] = []): DeclarativeIssue[] {
  return error.issues.map((i) => ({
    path: [...basePath, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: i.message,
  }));
}

/**
 * Validates `value` with `schema` and returns it typed, or throws a {@link DeclarativeError} whose
 * message names the first key path and what was expected.
 */
export function validate<T>(
  schema: z.ZodType<T>,
  value: unknown,
  code: DeclarativeErrorCode,
  what: string,
  basePath: (string | number)[] = [],
): T {
  const r = schema.safeParse(value);
  if (r.success) return value as T;
  const issues = issuesOf(r.error, basePath);
  const first = issues[0]!;
  const where = first.path.length ? first.path.join('.') : '(root)';
  throw new DeclarativeError(code, `${what}: ${where}: ${first.message}`, {
    keyPath: first.path,
    issues,
    cause: r.error,
  });
}
