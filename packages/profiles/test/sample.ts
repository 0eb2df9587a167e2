import type { z } from 'zod';

type Def = { type: string } & Record<string, unknown>;
type Any = z.ZodType & { _zod: { def: Def } };

/**
 * A deterministic value a generated zod schema accepts: required keys always, optional keys while
 * `depth < optionalDepth`, the first allowed value of every enum, small arrays of one item.
 */
export function sampleFor(schema: z.ZodType, optionalDepth = 2, depth = 0): unknown {
  const s = schema as Any;
  const def = s._zod.def;
  switch (def.type) {
    case 'string':
      return `s${depth}`;
    case 'number': {
      const n = s as unknown as { minValue: number | null; maxValue: number | null; isInt: boolean };
      if (n.minValue !== null && Number.isFinite(n.minValue)) return n.minValue;
      return n.isInt ? 1 : 1.5;
    }
    case 'boolean':
      return true;
    case 'date':
      return new Date('2026-01-02T03:04:05Z');
    case 'custom':
      return new Uint8Array([1, 2, 3]);
    case 'unknown':
      return 'any';
    case 'literal':
      return (def.values as unknown[])[0];
    case 'enum':
      return Object.values(def.entries as Record<string, string>)[0];
    case 'optional':
      return sampleFor(def.innerType as z.ZodType, optionalDepth, depth);
    case 'lazy':
      return depth > 6 ? undefined : sampleFor((def.getter as () => z.ZodType)(), optionalDepth, depth + 1);
    case 'array':
      return depth > 6 ? [] : [sampleFor(def.element as z.ZodType, optionalDepth, depth + 1)];
    case 'record':
      return { key: sampleFor(def.valueType as z.ZodType, optionalDepth, depth + 1) };
    case 'pipe': {
      // plistReal: a preprocess (transform, then the number schema), then a transform to PlistReal.
      const from = def.in as Any;
      const inner = from._zod.def.type === 'transform' ? def.out : from;
      return sampleFor(inner as z.ZodType, optionalDepth, depth);
    }
    case 'union':
      return sampleFor((def.options as z.ZodType[])[0]!, optionalDepth, depth);
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(def.shape as Record<string, Any>)) {
        const optional = v._zod.def.type === 'optional';
        if (optional && depth >= optionalDepth) continue;
        const value = sampleFor(v, optionalDepth, depth + 1);
        if (value !== undefined) out[k] = value;
      }
      return out;
    }
    default:
      throw new Error(`sampleFor: unsupported zod type ${def.type}`);
  }
}
