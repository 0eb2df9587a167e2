import { checkinSchemas } from '@mdmkit/protocol';
import { compileCheck, ReportEnvelopeSchema } from '@mdmkit/protocol/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { getCommand, listRequestTypes } from '../src/index';
import { arbitraryFor, fuzzRuns } from './arbitrary';

const junk = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(undefined),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
  fc.uint8Array({ maxLength: 2 }),
  fc.date(),
);

/** Replaces one value somewhere inside `v` (chosen by `pick`) with `by`. */
function mutate(v: unknown, pick: number, by: unknown): unknown {
  const slots: { parent: Record<string | number, unknown>; key: string | number }[] = [];
  const walk = (x: unknown) => {
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        slots.push({ parent: x as never, key: i });
        walk(x[i]);
      }
    } else if (x && typeof x === 'object' && !(x instanceof Uint8Array) && !(x instanceof Date)) {
      for (const k of Object.keys(x)) {
        slots.push({ parent: x as never, key: k });
        walk((x as Record<string, unknown>)[k]);
      }
    }
  };
  const copy = structuredClone(v);
  walk(copy);
  if (!slots.length) return by;
  const s = slots[pick % slots.length]!;
  s.parent[s.key] = by;
  return copy;
}

function equivalent(name: string, schema: z.ZodType) {
  it(name, () => {
    const check = compileCheck(schema);
    const valid = arbitraryFor(schema);
    // Every valid value passes the fast path...
    fc.assert(
      fc.property(valid, (v) => {
        expect(check(v)).toBe(true);
      }),
      { numRuns: fuzzRuns, seed: 98 },
    );
    // ...and the fast path never accepts what zod rejects. (It may be stricter, e.g. about class
    // instances standing in for dictionaries: zod then decides.)
    const values = fc.oneof(
      fc.tuple(valid, fc.nat(), junk).map(([v, p, j]) => mutate(v, p, j)),
      junk,
    );
    fc.assert(
      fc.property(values, (v) => {
        if (check(v)) expect(schema.safeParse(v).success).toBe(true);
      }),
      { numRuns: fuzzRuns * 2, seed: 99 },
    );
  });
}

describe('compiled checks accept valid values and nothing zod rejects', () => {
  for (const rt of listRequestTypes()) {
    const def = getCommand(rt);
    equivalent(`${rt} payload`, def.payload);
    if (def.response) equivalent(`${rt} response`, def.response);
  }
  for (const [t, s] of Object.entries(checkinSchemas)) equivalent(`${t} check-in`, s);
  equivalent('report envelope', ReportEnvelopeSchema);
});
