import { PlistReal, PlistUid } from '@mdmkit/plist';
import type { z } from 'zod';
import { type Check, compileCheck } from './compiled-check';
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
  if (v instanceof PlistReal) return 'real (PlistReal)';
  if (v instanceof PlistUid) return 'uid';
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

/** How many issues a check lists; past it, issues are only counted (see {@link IssueList}). */
export const ISSUE_LIMIT = 100;

/** The first issues a check found (at most its limit) and how many more it found. */
export interface IssueList {
  issues: ProtocolIssue[];
  /** Problems found past the limit: counted, not listed. */
  omitted: number;
}

type Def = { type: string; checks?: unknown[] } & Record<string, unknown>;
type Node = z.ZodType & { _zod: { def: Def } };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const shapes = new WeakMap<object, [string, z.ZodType, Check][]>();

function shapeOf(def: Def): [string, z.ZodType, Check][] {
  const shape = def.shape as Record<string, z.ZodType>;
  let entries = shapes.get(shape);
  if (!entries) {
    entries = Object.entries(shape).map(([k, s]) => [k, s, compileCheck(s)]);
    shapes.set(shape, entries);
  }
  return entries;
}

function memberFor(def: Def, key: string, value: unknown): z.ZodType | undefined {
  for (const option of def.options as Node[]) {
    const shape = option._zod.def.shape as Record<string, z.ZodType> | undefined;
    const tag = shape?.[key];
    if (tag && compileCheck(tag)(value)) return option;
  }
  return undefined;
}

/**
 * Adds one issue to `into`, or counts it once `into` holds `limit` issues.
 *
 * @example
 * ```ts
 * const found: IssueList = { issues: [], omitted: 0 };
 * addIssue(found, { path: ['ErrorChain', 0], expected: 'dictionary', got: 'string', message: '...' });
 * ```
 */
export function addIssue(into: IssueList, issue: ProtocolIssue, limit = ISSUE_LIMIT): void {
  if (into.issues.length < limit) into.issues.push(issue);
  else into.omitted++;
}

/**
 * Walks a value along its schema, descending into arrays, objects and records itself and asking
 * zod only about the smaller values it cannot judge alone (scalars, enums, refined values), so the
 * work is one pass over the value and at most `limit` issues are ever built: a body of a million
 * wrong array items costs a million cheap checks, not a million zod issues.
 */
class IssueWalker {
  constructor(
    private readonly into: IssueList,
    private readonly limit: number,
    private readonly path: (string | number)[],
  ) {}

  /** Lists why `v`, which fails the compiled check of `s`, does not match `s`. */
  walk(s: z.ZodType, v: unknown): void {
    const def = (s as Node)._zod.def;
    const plain = !(Array.isArray(def.checks) && def.checks.length > 0);
    switch (def.type) {
      case 'optional':
        this.walk(def.innerType as z.ZodType, v);
        return;
      case 'lazy':
        this.walk((def.getter as () => z.ZodType)(), v);
        return;
      case 'array':
        if (plain && Array.isArray(v)) {
          const el = def.element as z.ZodType;
          const check = compileCheck(el);
          for (let i = 0; i < v.length; i++) if (!check(v[i])) this.at(i, el, v[i]);
          return;
        }
        break;
      case 'object': {
        const catchType = (def.catchall as Node | undefined)?._zod.def.type;
        const loose = catchType === undefined || catchType === 'unknown' || catchType === 'any';
        if (plain && loose && isPlainObject(v)) {
          for (const [k, child, check] of shapeOf(def)) if (!check(v[k])) this.at(k, child, v[k]);
          return;
        }
        break;
      }
      case 'record': {
        const keyDef = (def.keyType as Node)._zod.def;
        if (plain && keyDef.type === 'string' && !keyDef.checks?.length && isPlainObject(v)) {
          const val = def.valueType as z.ZodType;
          const check = compileCheck(val);
          for (const k in v) if (Object.hasOwn(v, k) && !check(v[k])) this.at(k, val, v[k]);
          return;
        }
        break;
      }
      case 'union': {
        const key = def.discriminator as string | undefined;
        if (key === undefined) {
          // zod would try every member in full and keep all their issues; one issue says as much.
          this.add({ expected: UNION_MISMATCH, got: describeValue(v), message: 'Invalid input' });
          return;
        }
        // A discriminated union is judged by the member its key names, as zod does; without such a
        // member zod answers from the key alone.
        const member = isPlainObject(v) ? memberFor(def, key, v[key]) : undefined;
        if (member) {
          this.walk(member, v);
          return;
        }
        break;
      }
    }
    this.leaf(s, v);
  }

  private at(key: string | number, s: z.ZodType, v: unknown): void {
    this.path.push(key);
    this.walk(s, v);
    this.path.pop();
  }

  private add(issue: Omit<ProtocolIssue, 'path'>, sub: readonly PropertyKey[] = []): void {
    if (this.into.issues.length >= this.limit) {
      this.into.omitted++;
      return;
    }
    const rest = sub.map((p) => (typeof p === 'symbol' ? String(p) : p));
    this.into.issues.push({ path: [...this.path, ...rest], ...issue });
  }

  private leaf(s: z.ZodType, v: unknown): void {
    if (this.into.issues.length >= this.limit) {
      this.into.omitted++;
      return;
    }
    const r = s.safeParse(v);
    if (r.success) return;
    for (const i of r.error.issues) {
      this.add(
        { message: i.message, expected: expectedOf(i), got: describeValue(valueAt(v, i.path)) },
        i.path,
      );
    }
  }
}

/**
 * Collects the places where `value` does not match `schema` into `into`: at most `limit` issues
 * (key path, expected, what was found), the rest counted in `omitted`. The compiled check runs
 * first; only a value that fails it is walked.
 *
 * @example
 * ```ts
 * const found: IssueList = { issues: [], omitted: 0 };
 * collectIssues(ErrorChainItemSchema, item, ['ErrorChain', 3], found);
 * ```
 */
export function collectIssues(
  schema: z.ZodType,
  value: unknown,
  basePath: (string | number)[],
  into: IssueList,
  limit = ISSUE_LIMIT,
): void {
  if (compileCheck(schema)(value)) return;
  new IssueWalker(into, limit, basePath.slice()).walk(schema, value);
}

/**
 * Every place where `value` does not match `schema`, as issues (key path, expected, what was found),
 * up to `limit` of them: empty when it matches. The compiled check runs first; a value that fails
 * it is walked once, so a huge wrong array costs one pass, not one zod issue per item.
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
  limit = ISSUE_LIMIT,
): ProtocolIssue[] {
  const found: IssueList = { issues: [], omitted: 0 };
  collectIssues(schema, value, basePath, found, limit);
  return found.issues;
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
