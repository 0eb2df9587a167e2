import fc from 'fast-check';
import type { z } from 'zod';

type Def = { type: string } & Record<string, unknown>;
type Node = z.ZodType & { _zod: { def: Def } };

const DEEPEST = 5;
const jsonKey = fc.string({ minLength: 1, maxLength: 10 });
const jsonScalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null));

/**
 * Values a generated declarative schema accepts, as JSON can carry them: whole numbers where the
 * schema wants integers, base64 text for `<data>`, scalars for `<any>`. Optional keys come and go.
 */
export function jsonArbitrary(schema: z.ZodType, depth = 0): fc.Arbitrary<unknown> {
  const node = schema as Node;
  const def = node._zod.def;
  switch (def.type) {
    case 'string':
      if (def.format === 'base64')
        return fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString('base64'));
      return fc.string({ maxLength: 16 });
    case 'number': {
      const n = node as unknown as { minValue: number | null; maxValue: number | null; isInt: boolean };
      const min = Math.max(n.minValue ?? -100_000, -(2 ** 31));
      const max = Math.min(n.maxValue ?? 100_000, 2 ** 31);
      if (n.isInt) return fc.integer({ min, max });
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x));
    }
    case 'boolean':
      return fc.boolean();
    case 'unknown':
      return jsonScalar;
    case 'literal':
      return fc.constantFrom(...(def.values as unknown[]));
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries as Record<string, string>));
    case 'optional':
      return jsonArbitrary(def.innerType as z.ZodType, depth);
    case 'lazy':
      return fc.constant(null).chain(() => jsonArbitrary((def.getter as () => z.ZodType)(), depth + 1));
    case 'union':
      return fc.oneof(...(def.options as z.ZodType[]).map((o) => jsonArbitrary(o, depth)));
    case 'array':
      return fc.array(jsonArbitrary(def.element as z.ZodType, depth + 1), {
        maxLength: depth >= DEEPEST ? 0 : 2,
      });
    case 'record':
      return fc.dictionary(jsonKey, jsonArbitrary(def.valueType as z.ZodType, depth + 1), {
        maxKeys: depth >= DEEPEST ? 0 : 2,
      });
    case 'object': {
      const shape = def.shape as Record<string, Node>;
      const arbs: Record<string, fc.Arbitrary<unknown>> = {};
      const requiredKeys: string[] = [];
      for (const [k, v] of Object.entries(shape)) {
        arbs[k] = jsonArbitrary(v, depth + 1);
        if (v._zod.def.type !== 'optional') requiredKeys.push(k);
      }
      return depth >= DEEPEST
        ? fc.record(Object.fromEntries(requiredKeys.map((k) => [k, arbs[k]!])))
        : fc.record(arbs, { requiredKeys });
    }
    default:
      throw new Error(`jsonArbitrary: no rule for zod type ${def.type}`);
  }
}

/** One fixed sample of a schema (the first value fast-check shrinks towards, from a fixed seed). */
export function sampleOf(schema: z.ZodType, seed = 1): unknown {
  return fc.sample(jsonArbitrary(schema), { seed, numRuns: 1 })[0];
}

/** Property-test runs per schema: small by default, larger with MDMKIT_FUZZ_RUNS. */
export const fuzzRuns = Number(process.env.MDMKIT_FUZZ_RUNS ?? 15);
