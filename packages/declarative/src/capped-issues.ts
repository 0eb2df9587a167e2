import { compileCheck } from '@mdmkit/protocol/schema';
import type { z } from 'zod';
import type { DeclarativeIssue } from './errors';
import { issuesOf } from './validate';

type Def = { type: string } & Record<string, unknown>;
type Node = z.ZodType & { _zod: { def: Def } };

/** Where issues go: the first `max` are listed, the rest only counted. */
export interface IssueBudget {
  readonly issues: DeclarativeIssue[];
  max: number;
  omitted: number;
}

/** Lists `issue` while the budget lasts, counts it after. */
export function addIssue(budget: IssueBudget, issue: DeclarativeIssue): void {
  if (budget.issues.length < budget.max) budget.issues.push(issue);
  else budget.omitted++;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Whether `value` conforms to `schema`, listing why not into `budget`. The verdict is zod's (through
 * the compiled check of @mdmkit/protocol, which holds the same verdict); zod itself runs only on the
 * failing parts, array item by array item and key by key, and stops once the budget is spent — so a
 * device cannot make us build and copy one issue per entry of a huge array.
 */
export function conforms(
  schema: z.ZodType,
  value: unknown,
  path: (string | number)[],
  budget: IssueBudget,
): boolean {
  if (compileCheck(schema)(value)) return true;
  collect(schema as Node, value, path, budget);
  return false;
}

function collect(schema: Node, value: unknown, path: (string | number)[], budget: IssueBudget): void {
  if (budget.issues.length >= budget.max) {
    budget.omitted++;
    return;
  }
  const def = schema._zod.def;
  if (def.type === 'optional' && value !== undefined) {
    collect(def.innerType as Node, value, path, budget);
    return;
  }
  if (def.type === 'array' && Array.isArray(value)) {
    const element = def.element as Node;
    const ok = compileCheck(element);
    for (let i = 0; i < value.length; i++) {
      if (ok(value[i])) continue;
      if (budget.issues.length >= budget.max) budget.omitted++;
      else collect(element, value[i], [...path, i], budget);
    }
    return;
  }
  if (def.type === 'object' && isPlainObject(value)) {
    for (const [key, s] of Object.entries(def.shape as Record<string, Node>)) {
      const v = Object.hasOwn(value, key) ? value[key] : undefined;
      if (!compileCheck(s)(v)) collect(s, v, [...path, key], budget);
    }
    return;
  }
  // Scalars, unions, records, lazy references: small enough to let zod explain.
  const r = schema.safeParse(value);
  if (r.success) return;
  for (const issue of issuesOf(r.error, path)) addIssue(budget, issue);
}
