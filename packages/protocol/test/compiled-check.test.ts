import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileCheck, plistData, plistDate, validate } from '../src/schema';

interface Node {
  Name: string;
  Children?: Node[];
}
const NodeSchema: z.ZodType<Node> = z.looseObject({
  Name: z.string(),
  Children: z.array(z.lazy(() => NodeSchema)).optional(),
});

describe('compileCheck', () => {
  it('follows recursive schemas through z.lazy', () => {
    const check = compileCheck(NodeSchema);
    expect(check({ Name: 'a', Children: [{ Name: 'b', Children: [{ Name: 'c' }] }] })).toBe(true);
    expect(check({ Name: 'a', Children: [{ Name: 'b', Children: [{ Name: 3 }] }] })).toBe(false);
  });

  it('checks scalars, enums, literals, data, dates and records like zod', () => {
    const s = z.looseObject({
      E: z.enum(['x', 'y']),
      L: z.literal([1, 2]).optional(),
      D: plistData.optional(),
      T: plistDate.optional(),
      R: z.record(z.string(), z.number()).optional(),
    });
    const check = compileCheck(s);
    const good = { E: 'x', L: 2, D: new Uint8Array(1), T: new Date(0), R: { a: 1 }, Extra: null };
    expect(check(good)).toBe(true);
    for (const bad of [
      { ...good, E: 'z' },
      { ...good, L: 3 },
      { ...good, D: 'bytes' },
      { ...good, T: new Date(Number.NaN) },
      { ...good, R: { a: 'one' } },
      { ...good, E: undefined },
      { ...good, L: Number.NaN },
    ]) {
      expect(check(bad)).toBe(false);
      expect(s.safeParse(bad).success).toBe(false);
    }
  });

  it('open enums (known values or any string / finite number) agree with zod', () => {
    const s = z.looseObject({
      S: z.union([z.enum(['a', 'b']), z.string()]),
      N: z.union([z.literal([0, 1]), z.number()]).optional(),
    });
    const check = compileCheck(s);
    for (const good of [{ S: 'a' }, { S: 'new' }, { S: '', N: 1 }, { S: 'b', N: 7.5 }]) {
      expect(check(good)).toBe(true);
      expect(s.safeParse(good).success).toBe(true);
    }
    for (const bad of [{}, { S: 1 }, { S: null }, { S: 'a', N: '1' }, { S: 'a', N: Number.NaN }]) {
      expect(check(bad)).toBe(false);
      expect(s.safeParse(bad).success).toBe(false);
    }
  });

  it('defers to zod for nodes with refinements and strict objects', () => {
    const s = z.object({ A: z.string().min(2) }).strict();
    const check = compileCheck(s);
    expect(check({ A: 'ab' })).toBe(true);
    expect(check({ A: 'a' })).toBe(false);
    expect(check({ A: 'ab', B: 1 })).toBe(false);
  });

  it('validate returns the input itself, so unknown nested keys survive', () => {
    const input = { Name: 'a', Children: [{ Name: 'b', New: { Deep: true } }] };
    expect(validate(NodeSchema, input, 'INVALID_MESSAGE', 'x')).toBe(input);
  });
});
