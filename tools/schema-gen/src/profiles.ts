import { Emitter, pascal, quote } from './emit';
import { camel, exampleObject, header, load, type Output, sourceUrl, supportOf, tsValue } from './generate';
import { OS_NAMES, type Release, type SchemaFile, type SchemaKey } from './model';

export const PROFILES_DIR = 'packages/profiles/src/generated';

/** Payload types whose name does not start with `com.apple.`: a readable name from the schema's facts. */
const BARE_NAMES: Record<string, string> = {
  loginwindow: 'LoginWindowLoginItems',
  '.GlobalPreferences': 'GlobalPreferences',
};

/** Files that describe the profile itself or the keys every payload shares, not a payload type. */
const NOT_PAYLOADS = new Set(['TopLevel', 'CommonPayloadKeys']);

/** Keys the assembler owns on every payload (PayloadType is the definition's, the rest are generated). */
const COMMON_KEYS = new Set(['PayloadType', 'PayloadVersion', 'PayloadIdentifier', 'PayloadUUID']);

/** One payload type: every schema file that describes it, merged. */
interface PayloadType {
  payloadType: string;
  name: string;
  files: SchemaFile[];
  keys: SchemaKey[];
}

/** `com.apple.security.scep` -> `SecurityScep`, `com.apple.MCX.FileVault2` -> `MCXFileVault2`. */
export function payloadTypeName(payloadType: string): string {
  const bare = BARE_NAMES[payloadType];
  if (bare) return bare;
  return pascal(payloadType.replace(/^com\.apple\./, ''));
}

/**
 * Several files can describe one payload type (`com.apple.MCX` is split by topic, single sign-on has a
 * Kerberos variant). Merged, a key is required only where every file requires it, allowed values and
 * sub-keys are the union of all files, and the first file's other facts win.
 */
export function mergeKeys(lists: SchemaKey[][]): SchemaKey[] {
  const order: string[] = [];
  const byKey = new Map<string, SchemaKey[]>();
  for (const list of lists) {
    for (const k of list) {
      if (!byKey.has(k.key)) {
        order.push(k.key);
        byKey.set(k.key, []);
      }
      byKey.get(k.key)!.push(k);
    }
  }
  return order.map((name) => {
    const all = byKey.get(name)!;
    const first = all[0]!;
    if (lists.length === 1) return first;
    const required = all.length === lists.length && all.every((k) => k.presence === 'required');
    const merged: SchemaKey = { ...first, presence: required ? 'required' : 'optional' };
    const ranges = all.map((k) => k.rangelist);
    if (ranges.every((r) => r !== undefined)) {
      merged.rangelist = [...new Set(ranges.flat())];
    } else delete merged.rangelist;
    const subs = all.map((k) => k.subkeys).filter((s): s is SchemaKey[] => s !== undefined);
    if (subs.length > 1 && all.every((k) => k.type === first.type)) merged.subkeys = mergeUnion(subs);
    return merged;
  });
}

/** Sub-keys merged without changing required-ness (each variant's dictionary keeps its own rules loose). */
function mergeUnion(lists: SchemaKey[][]): SchemaKey[] {
  const unique = [...new Set(lists)];
  if (unique.length === 1) return unique[0]!;
  return mergeKeys(unique);
}

function groupPayloadTypes(files: SchemaFile[]): PayloadType[] {
  const groups = new Map<string, SchemaFile[]>();
  for (const f of files) {
    const t = f.payload.payloadtype;
    if (!t || NOT_PAYLOADS.has(t)) continue;
    const list = groups.get(t) ?? [];
    list.push(f);
    groups.set(t, list);
  }
  return [...groups]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([payloadType, list]) => ({
      payloadType,
      name: payloadTypeName(payloadType),
      files: list,
      keys: mergeKeys(list.map((f) => (f.payloadkeys ?? []).filter((k) => !COMMON_KEYS.has(k.key)))),
    }));
}

function fileName(t: PayloadType): string {
  return t.payloadType
    .toLowerCase()
    .replace(/^[^a-z0-9]+/, '')
    .replace(/[^a-z0-9]+/g, '-');
}

/**
 * Whether the schema allows more than one payload of this type per profile, per OS; for a type merged
 * from several files, only where every file that says allows it.
 */
function multipleOf(files: SchemaFile[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const os of OS_NAMES) {
    for (const f of files) {
      const s = f.payload.supportedOS?.[os] as { multiple?: boolean } | null | undefined;
      if (s && typeof s.multiple === 'boolean') out[os] = (out[os] ?? true) && s.multiple;
    }
  }
  return out;
}

function helperImports(e: Emitter): string[] {
  const helpers = [e.usesData ? 'plistData' : '', e.usesDate ? 'plistDate' : ''].filter(Boolean);
  return helpers.length ? [`import { ${helpers.join(', ')} } from '@mdmkit/protocol/schema';`] : [];
}

function payloadFile(release: Release, t: PayloadType): { path: string; code: string } {
  const contentName = `${t.name}Payload`;
  const defName = `${t.name}Definition`;
  const sources = t.files.map((f) => sourceUrl(release, f.path));
  const e = new Emitter(t.name, 'request', [t.keys], [contentName, defName]);
  e.wrapReals = true;
  e.object(
    contentName,
    t.keys,
    `/**\n * Keys of a \`${t.payloadType}\` payload (without the common Payload* keys).\n${sources.map((s) => ` * @see ${s}\n`).join('')} */\n`,
  );
  const builder = camel(t.name);
  const hasRequired = t.keys.some((k) => k.presence === 'required');
  const exampleArg = exampleObject(t.keys, 0);
  const code = [
    header(
      release,
      t.files.map((f) => f.path),
    ),
    "import { z } from 'zod';",
    ...helperImports(e),
    ...(e.usesReal ? ["import type { PlistReal } from '@mdmkit/plist';"] : []),
    `import { definePayload, type Payload, type PayloadOptions${e.usesReal ? ', plistReal' : ''} } from '../../define';`,
    '',
    e.decls.join('\n'),
    `/** Schema facts of the \`${t.payloadType}\` payload: validator, known keys, availability. */`,
    `export const ${defName} = definePayload<'${t.payloadType}', ${contentName}>({`,
    `  payloadType: ${quote(t.payloadType)},`,
    `  schema: ${contentName}Schema,`,
    `  keys: [${t.keys.map((k) => quote(k.key)).join(', ')}],`,
    `  sources: [${sources.map(quote).join(', ')}],`,
    `  support: ${tsValue(supportOf(t.files[0]!.payload.supportedOS), 1)},`,
    `  multiple: ${tsValue(multipleOf(t.files), 1)},`,
    '});',
    '',
    '/**',
    ` * Builds a \`${t.payloadType}\` payload, validating its keys; the profile assembler fills in`,
    ' * PayloadUUID and PayloadIdentifier unless given in `options`.',
    ' * @throws ProfileError `INVALID_PAYLOAD` with the key path of the first problem.',
    ' * @example',
    ' * ```ts',
    ` * const payload = ${builder}Payload(${exampleArg === '{}' ? '{}' : exampleArg.replace(/\bbytes\b/g, 'new Uint8Array([1])')});`,
    ` * const profile = buildProfile({ identifier: 'com.example.profile', payloads: [payload] });`,
    ' * ```',
    ...sources.map((s) => ` * @see ${s}`),
    ' */',
    `export function ${builder}Payload(content: ${contentName}${hasRequired ? '' : ' = {}'}, options?: PayloadOptions): Payload<'${t.payloadType}', ${contentName}> {`,
    `  return ${defName}.build(content, options);`,
    '}',
    '',
  ]
    .filter((l, i, a) => !(l === '' && a[i - 1] === ''))
    .join('\n');
  return { path: `${PROFILES_DIR}/payloads/${fileName(t)}.ts`, code };
}

/**
 * The schema nests ConsentText's languages under a `ConsentTextItem` key, but on the wire the language
 * codes are ConsentText's own keys (`{ en: '…', default: '…' }`): lift the item's keys up one level.
 */
function topLevelErrata(keys: SchemaKey[]): SchemaKey[] {
  return keys.map((k) =>
    k.key === 'ConsentText' && k.subkeys?.length === 1 && k.subkeys[0]!.key === 'ConsentTextItem'
      ? { ...k, subkeys: k.subkeys[0]!.subkeys }
      : k,
  );
}

function topLevelFile(release: Release, files: SchemaFile[]): string {
  const found = files.find((f) => f.payload.payloadtype === 'TopLevel')!;
  const top = { ...found, payloadkeys: topLevelErrata(found.payloadkeys ?? []) };
  const common = files.find((f) => f.payload.payloadtype === 'CommonPayloadKeys')!;
  const e = new Emitter(
    'Profile',
    'request',
    [top.payloadkeys, common.payloadkeys],
    ['ProfileTopLevel', 'CommonPayloadKeys'],
  );
  e.object(
    'ProfileTopLevel',
    top.payloadkeys ?? [],
    `/**\n * Top-level keys of a configuration profile.\n * @see ${sourceUrl(release, top.path)}\n */\n`,
  );
  e.object(
    'CommonPayloadKeys',
    common.payloadkeys ?? [],
    `/**\n * Keys every payload dictionary carries.\n * @see ${sourceUrl(release, common.path)}\n */\n`,
  );
  return [
    header(release, [top.path, common.path]),
    "import { z } from 'zod';",
    ...helperImports(e),
    '',
    e.decls.join('\n'),
  ]
    .filter((l, i, a) => !(l === '' && a[i - 1] === ''))
    .join('\n');
}

function registry(release: Release, types: PayloadType[], paths: string[]): Output {
  const out: Output = new Map();
  const mod = (p: string) => `./payloads/${p.split('/').pop()!.replace(/\.ts$/, '')}`;
  const reg = [
    `// Generated by tools/schema-gen from Apple's device-management schemas, release ${release.name}.`,
    '// Do not edit: change the generator and run `pnpm run generate`.',
    ...types.map((t, i) => `import { ${t.name}Definition } from '${mod(paths[i]!)}';`),
    '',
    '/** Every payload type of the schema release, keyed by PayloadType. */',
    'export const payloadDefinitions = {',
    ...types.map((t) => `  ${quote(t.payloadType)}: ${t.name}Definition,`),
    '} as const;',
    '',
    '/** Every PayloadType known to the schema release. */',
    'export type PayloadType = keyof typeof payloadDefinitions;',
    '',
    '/** The Apple schema release the payload definitions were generated from. */',
    `export const profileSchemaRelease = { name: ${quote(release.name)}, commit: ${quote(release.commit)} } as const;`,
    '',
  ].join('\n');
  out.set(`${PROFILES_DIR}/registry.ts`, reg);
  const barrel = [
    '// Generated by tools/schema-gen. Do not edit.',
    ...paths.map((p) => `export * from '${mod(p)}';`),
    "export * from './top-level';",
    "export { payloadDefinitions, profileSchemaRelease, type PayloadType } from './registry';",
    '',
  ].join('\n');
  out.set(`${PROFILES_DIR}/index.ts`, barrel);
  return out;
}

/** Generates `packages/profiles/src/generated/` from `mdm/profiles`. Pure: returns the files. */
export function generateProfiles(release: Release, schemasDir: string): Output {
  const files = load(schemasDir, 'mdm/profiles');
  const types = groupPayloadTypes(files);
  const out: Output = new Map();
  const paths: string[] = [];
  for (const t of types) {
    const f = payloadFile(release, t);
    if (out.has(f.path)) throw new Error(`two payload types map to ${f.path}`);
    out.set(f.path, f.code);
    paths.push(f.path);
  }
  out.set(`${PROFILES_DIR}/top-level.ts`, topLevelFile(release, files));
  for (const [p, c] of registry(release, types, paths)) out.set(p, c);
  return out;
}
