import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Emitter } from '../src/emit';
import { camel, generate } from '../src/generate';
import type { SchemaKey } from '../src/model';
import { requirePeer } from '@mdmkit/test-support';
import { existingGeneratedFiles, expectedSchemasDir, repoRoot, schemasDir } from '../src/paths';

// The schemas are an external peer like openssl: absent on a user's clone (the test is skipped with
// one visible line), required under CI (a missing folder fails the run).
const expected = expectedSchemasDir();
const present = requirePeer(
  {
    name: 'Apple device-management schemas (MDMKIT_SCHEMAS_DIR or ../shared/apple-device-management)',
    probe: ['test', '-f', join(expected, 'RELEASE'), '-a', '-d', join(expected, 'mdm')],
  },
  'schema-gen staleness check',
);
const dir = present ? schemasDir() : undefined;

describe.skipIf(!dir)('generated code is up to date with the schemas', () => {
  it('pnpm run generate reproduces the committed files byte for byte', () => {
    const files = generate(dir!);
    expect(files.size).toBe(249);
    const stale = [...files].filter(([path, code]) => {
      try {
        return readFileSync(join(repoRoot, path), 'utf8') !== code;
      } catch {
        return true;
      }
    });
    expect(stale.map(([p]) => p)).toEqual([]);
    const extra = existingGeneratedFiles().filter((p) => !files.has(p));
    expect(extra).toEqual([]);
  });

  it('copies no description or content text from the schemas', () => {
    const prose = new Set<string>();
    const collect = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if ((k === 'content' || k === 'description' || k === 'title') && typeof x === 'string') {
            for (const sentence of x.split(/(?<=[.:])\s+|\n/))
              if (sentence.trim().length >= 32) prose.add(sentence.trim());
          } else collect(x);
        }
      }
    };
    for (const folder of ['mdm/checkin', 'mdm/commands', 'mdm/errors', 'declarative']) {
      for (const f of readdirSync(join(dir!, folder), { recursive: true, encoding: 'utf8' })) {
        if (f.endsWith('.yaml'))
          collect(parse(readFileSync(join(dir!, folder, f), 'utf8'), { maxAliasCount: -1 }));
      }
    }
    expect(prose.size).toBeGreaterThan(700);
    const all = [...generate(dir!).values()].join('\n');
    const copied = [...prose].filter((p) => all.includes(p));
    expect(copied).toEqual([]);
  });

  it('is deterministic and carries no schema prose', () => {
    const a = generate(dir!);
    const b = generate(dir!);
    expect([...a]).toEqual([...b]);
    const lock = a.get('packages/commands/src/generated/commands/device-lock.ts')!;
    // A sentence from the schema's description must not be copied.
    expect(lock).not.toContain('immediately lock the device');
    expect(lock).toMatch(
      /github\.com\/apple\/device-management\/blob\/[0-9a-f]{40}\/mdm\/commands\/device\.lock\.yaml/,
    );
  });
});

function emit(keys: SchemaKey[], mode: 'request' | 'response' = 'request'): string {
  const e = new Emitter('T', mode, [keys]);
  e.object('Root', keys, '');
  return e.decls.join('\n');
}

describe('emitter', () => {
  it('rangelists become enums or literal unions; single values literals', () => {
    const out = emit([
      { key: 'Kind', type: '<string>', presence: 'required', rangelist: ['a', 'b'] },
      { key: 'Level', type: '<integer>', presence: 'optional', rangelist: [0, 1, 2] },
      { key: 'Fixed', type: '<string>', presence: 'required', rangelist: ['only'] },
    ]);
    expect(out).toContain("Kind: 'a' | 'b';");
    expect(out).toContain("Kind: z.enum(['a', 'b']),");
    expect(out).toContain('Level: z.literal([0, 1, 2]).optional(),');
    expect(out).toContain("Fixed: z.literal('only'),");
  });

  it('in device messages, enums are open: known values typed, any string or number accepted', () => {
    const keys: SchemaKey[] = [
      { key: 'Kind', type: '<string>', presence: 'required', rangelist: ['a', 'b'] },
      { key: 'Level', type: '<integer>', presence: 'optional', rangelist: [0, 1, 2] },
      { key: 'Fixed', type: '<string>', presence: 'required', rangelist: ['only'] },
    ];
    const out = emit(keys, 'response');
    expect(out).toContain("Kind: 'a' | 'b' | (string & {});");
    expect(out).toContain("Kind: z.union([z.enum(['a', 'b']), z.string()]),");
    expect(out).toContain('Level?: 0 | 1 | 2 | (number & {});');
    expect(out).toContain('Level: z.union([z.literal([0, 1, 2]), z.number()]).optional(),');
    expect(out).toContain("Fixed: 'only' | (string & {});");
    expect(out).toContain("Fixed: z.union([z.literal('only'), z.string()]),");
    // What the server sends in a check-in exchange, and tag keys, stay closed.
    const e = new Emitter('T', 'response', [keys]);
    e.object('Answer', keys, '', { closedEnums: true });
    e.object('Message', keys, '', { tags: new Set(['Fixed']) });
    const [answer, message] = e.decls;
    expect(answer).toContain("Kind: z.enum(['a', 'b']),");
    expect(answer).toContain("Fixed: z.literal('only'),");
    expect(message).toContain("Kind: z.union([z.enum(['a', 'b']), z.string()]),");
    expect(message).toContain("Fixed: z.literal('only'),");
    expect(message).toContain("Fixed: 'only';");
  });

  it('discriminators of device-sent unions stay literals', () => {
    const out = emit(
      [
        {
          key: 'Items',
          type: '<array>',
          presence: 'required',
          subkeys: [
            {
              key: 'A',
              type: '<dictionary>',
              subkeys: [{ key: 'Item', type: '<string>', presence: 'required', rangelist: ['A'] }],
            },
            {
              key: 'B',
              type: '<dictionary>',
              subkeys: [
                { key: 'Item', type: '<string>', presence: 'required', rangelist: ['B'] },
                { key: 'Mode', type: '<string>', presence: 'required', rangelist: ['x', 'y'] },
              ],
            },
          ],
        },
      ],
      'response',
    );
    expect(out).toContain("z.discriminatedUnion('Item', [");
    expect(out).toContain("Item: z.literal('B'),");
    expect(out).toContain("Mode: z.union([z.enum(['x', 'y']), z.string()]),");
  });

  it('key ANY becomes a record; loose objects keep unknown keys', () => {
    const out = emit([
      {
        key: 'Config',
        type: '<dictionary>',
        presence: 'optional',
        subkeys: [{ key: 'ANY', type: '<any>', presence: 'optional' }],
      },
    ]);
    expect(out).toContain('Config?: Record<string, unknown>;');
    expect(out).toContain('Config: z.record(z.string(), z.unknown()).optional(),');
    expect(out).toContain('z.looseObject({');
  });

  it('named wildcard keys (`ANY profile identifier`) become records too', () => {
    const out = emit([
      {
        key: 'ByProfile',
        type: '<dictionary>',
        presence: 'required',
        subkeys: [
          {
            key: 'ANY profile identifier',
            type: '<dictionary>',
            subkeys: [{ key: 'value', type: '<boolean>', presence: 'required' }],
          },
        ],
      },
    ]);
    expect(out).toContain('ByProfile: Record<string, {');
    expect(out).toContain('ByProfile: z.record(z.string(), z.looseObject({');
  });

  it('in device messages, a required key with its own OS availability is optional', () => {
    const keys: SchemaKey[] = [
      { key: 'Always', type: '<string>', presence: 'required' },
      {
        key: 'NotOnMac',
        type: '<string>',
        presence: 'required',
        supportedOS: { macOS: { introduced: 'n/a' } },
      },
    ];
    const response = emit(keys, 'response');
    expect(response).toContain('Always: z.string(),');
    expect(response).toContain('NotOnMac: z.string().optional(),');
    expect(emit(keys, 'request')).toContain('NotOnMac: z.string(),');
  });

  it('recursive anchors become named declarations referenced through z.lazy', () => {
    const icon: SchemaKey[] = [];
    const pagesItem: SchemaKey[] = [
      { key: 'PagesItem', type: '<array>', subkeytype: 'IconItem', subkeys: icon },
    ];
    icon.push({
      key: 'IconItem',
      type: '<dictionary>',
      subkeys: [
        { key: 'Type', type: '<string>', presence: 'required', rangelist: ['Application', 'Folder'] },
        { key: 'Pages', type: '<array>', presence: 'optional', subkeys: pagesItem },
      ],
    });
    const keys: SchemaKey[] = [
      { key: 'Dock', type: '<array>', presence: 'optional', subkeytype: 'IconItem', subkeys: icon },
      { key: 'Pages', type: '<array>', presence: 'required', subkeys: pagesItem },
    ];
    const out = emit(keys);
    expect(out).toContain('z.lazy(() => TIconItemItemSchema)');
    expect(out).toMatch(/export const TIconItemItemSchema: z\.ZodType<TIconItemItem> =/);
  });

  it('arrays of dictionaries pinned by one key become discriminated unions', () => {
    const out = emit([
      {
        key: 'Settings',
        type: '<array>',
        presence: 'required',
        subkeys: [
          {
            key: 'A',
            type: '<dictionary>',
            subkeys: [{ key: 'Item', type: '<string>', presence: 'required', rangelist: ['A'] }],
          },
          {
            key: 'B',
            type: '<dictionary>',
            subkeys: [
              { key: 'Item', type: '<string>', presence: 'required', rangelist: ['B'] },
              { key: 'On', type: '<boolean>', presence: 'required' },
            ],
          },
        ],
      },
    ]);
    expect(out).toContain("z.discriminatedUnion('Item', [");
  });

  it('integers are checked as integers in requests only', () => {
    const keys: SchemaKey[] = [
      { key: 'N', type: '<integer>', presence: 'required', range: { min: 1, max: 9 } },
    ];
    expect(emit(keys, 'request')).toContain('N: z.number().int().min(1).max(9),');
    expect(emit(keys, 'response')).toContain('N: z.number(),');
  });

  it('camel-cases RequestTypes with leading acronyms', () => {
    expect(camel('DeviceLock')).toBe('deviceLock');
    expect(camel('OSUpdateStatus')).toBe('osUpdateStatus');
    expect(camel('LOMSetupRequest')).toBe('lomSetupRequest');
    expect(camel('NSExtensionMappings')).toBe('nsExtensionMappings');
  });
});
