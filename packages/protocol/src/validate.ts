import type { z } from 'zod';
import { compileCheck } from './compiled-check';
import { ProtocolError, type ProtocolErrorCode, type ProtocolIssue } from './errors';

/**
 * What a value is, in plist words; never the value itself (it may be a secret).
 *
 * @example
 * ```ts
 * describeValue(2n ** 64n - 1n); // 'integer beyond 2^53 (bigint)'
 * describeValue(undefined); // 'nothing'
 * ```
 */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'data';
  if (v instanceof Date) return 'date';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'real';
  if (typeof v === 'bigint') return 'integer beyond 2^53 (bigint)';
  if (typeof v === 'object') return 'dictionary';
  return typeof v;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** `expected` of an issue where no member of a union (e.g. no Settings `Item` type) matches. */
export const UNION_MISMATCH = 'one of the allowed shapes';

function expectedOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `${issue.origin} of at least ${String(issue.minimum)}`;
    case 'too_big':
      return `${issue.origin} of at most ${String(issue.maximum)}`;
    case 'invalid_union':
      return UNION_MISMATCH;
    case 'not_multiple_of':
      return 'integer';
    default:
      return issue.message;
  }
}

/**
 * Every place where `value` does not match `schema`, as issues (key path, expected, what was found):
 * empty when it matches. The compiled check runs first, zod only when it fails.
 *
 * @example
 * ```ts
 * checkValue(ErrorChainItemSchema, { ErrorCode: 'x' });
 * // [{ path: ['ErrorCode'], expected: 'number', got: 'string', message: '...' }, ...]
 * ```
 */
export function checkValue(
  schema: z.ZodType,
  value: unknown,
  basePath: (string | number)[] = [],
): ProtocolIssue[] {
  if (compileCheck(schema)(value)) return [];
  const r = schema.safeParse(value);
  if (r.success) return [];
  return r.error.issues.map((i) => {
    const path = i.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    return {
      path: [...basePath, ...path],
      message: i.message,
      expected: expectedOf(i),
      got: describeValue(valueAt(value, i.path)),
    };
  });
}

/**
 * Throws a {@link ProtocolError} for a non-empty issue list, naming the first issue's key path and
 * types (never values) in the message.
 *
 * @example
 * ```ts
 * const issues = checkValue(schema, value);
 * if (issues.length) throwIssues('INVALID_MESSAGE', 'report', issues);
 * ```
 */
export function throwIssues(
  code: ProtocolErrorCode,
  what: string,
  issues: ProtocolIssue[],
  cause?: unknown,
): never {
  const first = issues[0]!;
  const where = first.path.length ? first.path.join('.') : '(root)';
  throw new ProtocolError(code, `${what}: ${where}: expected ${first.expected}, got ${first.got}`, {
    keyPath: first.path,
    issues,
    cause,
  });
}

/**
 * Validates `value` with `schema` and returns `value` itself (typed), so keys no schema names stay
 * exactly as received. Turns the issues into a {@link ProtocolError} carrying the key path. The
 * message names keys and expected types only, never the values (they may be secrets).
 *
 * @example
 * ```ts
 * const payload = validate(DeviceLockPayloadSchema, input, 'INVALID_COMMAND', 'DeviceLock command');
 * ```
 */
export function validate<T>(
  schema: z.ZodType<T>,
  value: unknown,
  code: ProtocolErrorCode,
  what: string,
  basePath: (string | number)[] = [],
): T {
  const issues = checkValue(schema, value, basePath);
  if (issues.length) throwIssues(code, what, issues);
  return value as T;
}
