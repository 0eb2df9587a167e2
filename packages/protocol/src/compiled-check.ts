import type { z } from 'zod';

type Def = { type: string; checks?: unknown[] } & Record<string, unknown>;
type Node = z.ZodType & { _zod: { def: Def } };

/** A compiled yes/no validator: no allocation, no issue collection. */
export type Check = (v: unknown) => boolean;

const cache = new WeakMap<z.ZodType, Check>();

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Compiles a zod schema into a plain predicate that accepts exactly what the schema accepts, for the
 * node kinds schema-gen emits (objects, arrays, unions, records, enums, literals, scalars, lazy
 * references). Anything else — and every node with refinements — defers to zod itself, so the
 * predicate is never looser than the schema. On the hot path (check-ins, reports) this replaces
 * zod's parse, which builds a copy of every object; zod runs only when the predicate fails, to
 * produce issues with key paths.
 *
 * @example
 * ```ts
 * const isReport = compileCheck(ReportEnvelopeSchema);
 * isReport({ UDID: 'x', Status: 'Idle' }); // true
 * ```
 */
export function compileCheck(schema: z.ZodType): Check {
  const hit = cache.get(schema);
  if (hit) return hit;
  // A schema that reaches itself while being compiled gets this forwarder, which only runs once
  // compilation has finished.
  let compiled: Check | undefined;
  cache.set(schema, (v) => compiled!(v));
  compiled = build(schema as Node);
  cache.set(schema, compiled);
  return compiled;
}

function viaZod(s: z.ZodType): Check {
  return (v) => s.safeParse(v).success;
}

function build(s: Node): Check {
  const def = s._zod.def;
  const hasChecks = Array.isArray(def.checks) && def.checks.length > 0;
  switch (def.type) {
    case 'string':
      return hasChecks ? viaZod(s) : (v) => typeof v === 'string';
    case 'number':
      // zod rejects NaN and infinities for z.number().
      return hasChecks ? viaZod(s) : (v) => typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'date':
      return hasChecks ? viaZod(s) : (v) => v instanceof Date && !Number.isNaN(v.getTime());
    case 'unknown':
    case 'any':
      return () => true;
    case 'literal': {
      const values = def.values as unknown[];
      if (values.length === 1) {
        const only = values[0];
        return (v) => v === only;
      }
      const set = new Set(values);
      return (v) => set.has(v);
    }
    case 'enum': {
      const set = new Set(Object.values(def.entries as Record<string, unknown>));
      return (v) => set.has(v);
    }
    case 'optional': {
      const inner = compileCheck(def.innerType as z.ZodType);
      return (v) => v === undefined || inner(v);
    }
    case 'array': {
      if (hasChecks) return viaZod(s);
      const el = compileCheck(def.element as z.ZodType);
      return (v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!el(v[i])) return false;
        return true;
      };
    }
    case 'object': {
      const catchall = def.catchall as Node | undefined;
      const catchType = catchall?._zod.def.type;
      // Loose (catchall unknown) and stripping objects accept any other key; strict ones do not.
      if (catchall && catchType !== 'unknown' && catchType !== 'any') return viaZod(s);
      // Required keys are looked up; optional ones are checked only when present, by walking the
      // value's own keys: device dictionaries carry far fewer keys than their schemas name
      // (DeviceInformation's QueryResponses lists over a hundred).
      const required: [string, Check][] = [];
      const optional = new Map<string, Check>();
      for (const [k, v] of Object.entries(def.shape as Record<string, Node>)) {
        if (v._zod.def.type === 'optional') optional.set(k, compileCheck(v._zod.def.innerType as z.ZodType));
        else required.push([k, compileCheck(v)]);
      }
      return (v) => {
        if (!isPlainObject(v)) return false;
        for (let i = 0; i < required.length; i++) {
          const [k, check] = required[i]!;
          if (!check(v[k])) return false;
        }
        for (const k of Object.keys(v)) {
          const check = optional.get(k);
          if (check !== undefined) {
            const x = v[k];
            if (x !== undefined && !check(x)) return false;
          }
        }
        return true;
      };
    }
    case 'record': {
      const keyType = (def.keyType as Node)._zod.def;
      if (keyType.type !== 'string' || (keyType.checks?.length ?? 0) > 0) return viaZod(s);
      const val = compileCheck(def.valueType as z.ZodType);
      return (v) => {
        if (!isPlainObject(v)) return false;
        for (const k in v) if (Object.hasOwn(v, k) && !val(v[k])) return false;
        return true;
      };
    }
    case 'union': {
      const options = (def.options as z.ZodType[]).map((o) => compileCheck(o));
      return (v) => {
        for (const o of options) if (o(v)) return true;
        return false;
      };
    }
    case 'lazy': {
      const getter = def.getter as () => z.ZodType;
      let inner: Check | undefined;
      return (v) => {
        inner ??= compileCheck(getter());
        return inner(v);
      };
    }
    default:
      return viaZod(s);
  }
}
