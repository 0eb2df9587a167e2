import { PlistReal, PlistUid } from '@mdmkit/plist';
import type { z } from 'zod';
import { ProfileError, type ProfileIssue } from './errors';

/** Keys the assembler writes on every payload; a payload's content may not set them itself. */
export const ASSEMBLER_KEYS = ['PayloadType', 'PayloadVersion', 'PayloadIdentifier', 'PayloadUUID'] as const;

/** Most issues listed for one validation or one profile; the rest are counted in one last issue. */
export const MAX_ISSUES = 1000;

/** The issue that stands for `count` issues not listed. */
export function moreIssues(path: (string | number)[], count: number): ProfileIssue {
  return { path, message: `${count} more issues not listed` };
}

/**
 * The problems `schema` finds in `value`, each with its key path under `basePath`: the first
 * {@link MAX_ISSUES} listed, and how many there are in all. Messages name keys and expected types
 * only, never values (a payload may carry passwords or keys).
 */
export function countedSchemaIssues(
  schema: z.ZodType,
  value: unknown,
  basePath: (string | number)[] = [],
): { listed: ProfileIssue[]; total: number } {
  const r = schema.safeParse(value);
  if (r.success) return { listed: [], total: 0 };
  const all = r.error.issues;
  const listed = all.slice(0, MAX_ISSUES).map((i) => ({
    path: [...basePath, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: i.message,
  }));
  return { listed, total: all.length };
}

/** {@link countedSchemaIssues} as one list: the issues listed, then one issue counting the rest. */
export function schemaIssues(
  schema: z.ZodType,
  value: unknown,
  basePath: (string | number)[] = [],
): ProfileIssue[] {
  const { listed, total } = countedSchemaIssues(schema, value, basePath);
  if (total > listed.length) listed.push(moreIssues(basePath, total - listed.length));
  return listed;
}

/** Throws a {@link ProfileError} with the first issue's key path when `issues` is not empty. */
export function throwIssues(
  code: 'INVALID_PAYLOAD' | 'INVALID_PROFILE',
  what: string,
  issues: ProfileIssue[],
): void {
  const first = issues[0];
  if (!first) return;
  const where = first.path.length ? first.path.join('.') : '(root)';
  throw new ProfileError(code, `${what}: ${where}: ${first.message}`, { keyPath: first.path, issues });
}

/**
 * Characters an XML property list cannot carry: controls other than tab, line feed and carriage
 * return, U+FFFE, U+FFFF and unpaired surrogates. Written as character references, parsers refuse them.
 */
const NOT_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Deepest nesting {@link unwritable} follows, far beyond any payload the schemas describe. */
const MAX_NESTING = 256;

/**
 * The first value under `value` that an XML property list cannot hold (null, a function, a Map, an
 * invalid date, an array hole, a cycle, text with characters XML 1.0 cannot carry), with its key path;
 * undefined when every value can be written.
 */
export function unwritable(
  value: unknown,
  path: (string | number)[] = [],
  open: Set<object> = new Set(),
): ProfileIssue | undefined {
  switch (typeof value) {
    case 'string':
      return NOT_XML.test(value)
        ? { path, message: 'text holds a character XML 1.0 cannot carry' }
        : undefined;
    case 'number':
    case 'boolean':
    case 'bigint':
      return undefined;
    case 'object':
      break;
    default:
      return { path, message: `a property list cannot hold a ${typeof value}` };
  }
  if (value === null) return { path, message: 'a property list cannot hold null' };
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? { path, message: 'invalid date' } : undefined;
  if (value instanceof Uint8Array || value instanceof PlistReal || value instanceof PlistUid)
    return undefined;
  if (
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof Map ||
    value instanceof Set
  )
    return {
      path,
      message: 'a property list cannot hold this kind of object; use Uint8Array or a dictionary',
    };
  if (open.has(value)) return { path, message: 'the value contains itself' };
  if (path.length >= MAX_NESTING) return { path, message: 'nested too deeply' };
  open.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (value[i] === undefined) return { path: [...path, i], message: 'array item is missing' };
        const found = unwritable(value[i], [...path, i], open);
        if (found) return found;
      }
    } else {
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) continue;
        if (NOT_XML.test(k))
          return { path: [...path, k], message: 'key holds a character XML 1.0 cannot carry' };
        const found = unwritable(v, [...path, k], open);
        if (found) return found;
      }
    }
  } finally {
    open.delete(value);
  }
  return undefined;
}

/** Validates a payload's own keys and returns them as validated; refuses the keys the assembler owns. */
export function validatePayloadContent<C>(payloadType: string, schema: z.ZodType<C>, content: unknown): C {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new ProfileError('INVALID_PAYLOAD', `${payloadType} payload: content must be a dictionary`);
  }
  const owned = ASSEMBLER_KEYS.filter((k) => Object.hasOwn(content, k));
  const issues: ProfileIssue[] = owned.map((k) => ({
    path: [k],
    message: 'set by the profile assembler; pass identifier/uuid in the payload options instead',
  }));
  const r = schema.safeParse(content);
  if (!r.success) issues.push(...schemaIssues(schema, content));
  // Keys the schema does not know (and values typed as any) must still be writable.
  const bad = unwritable(content);
  if (bad) issues.push(bad);
  throwIssues('INVALID_PAYLOAD', `${payloadType} payload`, issues);
  return r.data as C;
}
