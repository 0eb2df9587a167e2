import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type Emitted, Emitter, type Mode, pascal, quote } from './emit';
import { camel, exampleObject, header, load, type Output, sourceUrl, tsValue } from './generate';
import { OS_NAMES, type Release, type SchemaFile, type SchemaKey } from './model';

export const DECLARATIVE_DIR = 'packages/declarative/src/generated';

/** Keys of Apple's declarative `supportedOS` entries, which differ from the MDM ones. */
interface DeclarativeOsYaml {
  introduced?: string;
  deprecated?: string;
  removed?: string;
  'allowed-enrollments'?: string[];
  'allowed-scopes'?: string[];
  sharedipad?: { 'allowed-scopes'?: string[] } | null;
}

/** A declarative schema file: the common shape plus the type names and facts DDM adds. */
interface DeclarativeFile extends Omit<SchemaFile, 'payload'> {
  title?: string;
  payload: {
    declarationtype?: string;
    statusitemtype?: string;
    credentialtype?: string;
    supportedOS?: Record<string, DeclarativeOsYaml | null>;
    apply?: string;
    beta?: boolean;
  };
  reasons?: { value: string; details?: { key: string; type: string }[] }[];
}

const KINDS = [
  ['activations', 'activation'],
  ['assets', 'asset'],
  ['configurations', 'configuration'],
  ['management', 'management'],
] as const;

/**
 * The emitter for JSON, DDM's wire format: `<data>` is a base64 string there, not bytes. What we
 * build checks the base64 alphabet; what devices send stays any string.
 */
class JsonEmitter extends Emitter {
  usesBase64 = false;
  private readonly jsonMode: Mode;
  constructor(prefix: string, mode: Mode, roots: (SchemaKey[] | undefined)[], reserved: string[] = []) {
    super(prefix, mode, roots, reserved);
    this.jsonMode = mode;
  }
  override typeOf(k: SchemaKey, depth: number, tag?: string): Emitted {
    if (k.type !== '<data>') return super.typeOf(k, depth, tag);
    if (this.jsonMode === 'response') return { ts: 'string', zod: 'z.string()' };
    this.usesBase64 = true;
    return { ts: 'string', zod: 'base64Data' };
  }
}

function loadDeclarative(schemasDir: string, folder: string): DeclarativeFile[] {
  return load(schemasDir, folder) as unknown as DeclarativeFile[];
}

function loadOne(schemasDir: string, path: string): DeclarativeFile {
  const doc = parse(readFileSync(join(schemasDir, path), 'utf8'), { maxAliasCount: -1 }) as DeclarativeFile;
  return { ...doc, path };
}

/** Per-OS facts of a declaration or status item, renamed to the public `DeclarativeSupport` type. */
function supportOf(so: Record<string, DeclarativeOsYaml | null> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const os of OS_NAMES) {
    const s = so?.[os];
    if (!s) continue;
    out[os] = {
      introduced: s.introduced,
      deprecated: s.deprecated,
      removed: s.removed,
      allowedEnrollments: s['allowed-enrollments'],
      allowedScopes: s['allowed-scopes'],
      sharedIpadScopes: s.sharedipad?.['allowed-scopes'],
    };
  }
  return out;
}

/** A payload key that names an asset: where it sits (`*` for array items) and which asset types fit. */
interface AssetReference {
  path: string[];
  types: string[];
}

/** Every key of a payload that holds an asset's identifier, from the schema's `assettypes`. */
function assetReferences(
  keys: SchemaKey[] | undefined,
  path: string[] = [],
  seen = new Set<SchemaKey[]>(),
): AssetReference[] {
  if (!keys || seen.has(keys)) return [];
  seen.add(keys);
  const out: AssetReference[] = [];
  for (const k of keys as (SchemaKey & { assettypes?: string[] })[]) {
    if (k.key === 'ANY' || k.key.startsWith('ANY ')) continue;
    const here = [...path, k.key];
    if (k.assettypes?.length) out.push({ path: here, types: [...k.assettypes] });
    if (k.type === '<dictionary>') out.push(...assetReferences(k.subkeys, here, seen));
    // An array's single subkey describes its items.
    if (k.type === '<array>' && k.subkeys?.length === 1) {
      const item = k.subkeys[0]! as SchemaKey & { assettypes?: string[] };
      if (item.assettypes?.length) out.push({ path: [...here, '*'], types: [...item.assettypes] });
      if (item.type === '<dictionary>') out.push(...assetReferences(item.subkeys, [...here, '*'], seen));
    }
  }
  seen.delete(keys);
  return out;
}

function isWildcardOnly(keys: SchemaKey[] | undefined): boolean {
  return keys?.length === 1 && (keys[0]!.key === 'ANY' || keys[0]!.key.startsWith('ANY '));
}

/** `Software Update:Enforcement:Specific` -> `SoftwareUpdateEnforcementSpecific`. */
function nameOf(file: DeclarativeFile): string {
  if (!file.title) throw new Error(`${file.path}: no title to name it by`);
  return pascal(file.title);
}

function helperImports(e: JsonEmitter, from: string): string[] {
  return e.usesBase64 ? [`import { base64Data } from '${from}';`] : [];
}

function dedupeBlankLines(lines: (string | null)[]): string {
  return lines
    .filter((l): l is string => l !== null)
    .filter((l, i, a) => !(l === '' && a[i - 1] === ''))
    .join('\n');
}

/** The header naming every source file, and the imports of a file that bundles several schemas. */
function bundleHead(
  release: Release,
  files: DeclarativeFile[],
  ...imports: (string | null)[]
): (string | null)[] {
  return [
    header(
      release,
      files.map((f) => f.path),
    ),
    "import { z } from 'zod';",
    ...imports,
    '',
  ];
}

function payloadDecl(e: JsonEmitter, name: string, keys: SchemaKey[] | undefined, doc: string): void {
  if (isWildcardOnly(keys)) {
    e.decls.push(
      `${doc}export type ${name} = Record<string, unknown>;\n\n` +
        `export const ${name}Schema: z.ZodType<${name}> = z.record(z.string(), z.unknown());\n`,
    );
    return;
  }
  e.object(name, keys ?? [], doc);
}

interface DeclarationEntry {
  type: string;
  kind: string;
  name: string;
  file: string;
}

function declarationFile(
  release: Release,
  f: DeclarativeFile,
  kind: string,
): { code: string; entry: DeclarationEntry } {
  const type = f.payload.declarationtype!;
  const name = nameOf(f);
  const url = sourceUrl(release, f.path);
  const payloadName = `${name}Payload`;
  const defName = `${name}Declaration`;
  const e = new JsonEmitter(name, 'request', [f.payloadkeys], [payloadName, defName]);
  payloadDecl(
    e,
    payloadName,
    f.payloadkeys,
    `/**\n * Payload of the \`${type}\` declaration.\n * @see ${url}\n */\n`,
  );
  const fn = camel(name);
  const required = (f.payloadkeys ?? []).some((k) => k.presence === 'required' && !k.key.startsWith('ANY'));
  const exampleArg = isWildcardOnly(f.payloadkeys) ? '{}' : exampleObject(f.payloadkeys ?? [], 0);
  const support = supportOf(f.payload.supportedOS);
  const refs = assetReferences(f.payloadkeys);
  const file = `${kind}-${f.path
    .split('/')
    .pop()!
    .replace(/\.yaml$/, '')
    .replace(/\./g, '-')}`;
  const code = dedupeBlankLines([
    header(release, [f.path]),
    "import { z } from 'zod';",
    ...helperImports(e, '../../schema-helpers'),
    "import { type Declaration, type DeclarationOptions, defineDeclaration } from '../../define';",
    '',
    e.decls.join('\n'),
    `/** Schema facts of the \`${type}\` declaration: payload validator, availability, how copies combine. */`,
    `export const ${defName} = defineDeclaration<'${type}', ${payloadName}>({`,
    `  type: '${type}',`,
    `  kind: '${kind}',`,
    `  payload: ${payloadName}Schema,`,
    `  source: ${quote(url)},`,
    f.payload.apply ? `  apply: ${quote(f.payload.apply)},` : null,
    f.payload.beta ? '  beta: true,' : null,
    refs.length ? `  assetReferences: ${tsValue(refs, 1)},` : null,
    `  support: ${tsValue(support, 1)},`,
    '});',
    '',
    '/**',
    ` * Builds a \`${type}\` declaration: validates the payload, takes \`options.identifier\` or a fresh`,
    ' * UUID, and sets ServerToken to the hash of the canonical JSON of its content.',
    ' * @throws DeclarativeError `INVALID_DECLARATION` with the key path of the first problem.',
    ' * @example',
    ' * ```ts',
    ` * const declaration = ${fn}(${exampleArg}, { identifier: 'com.example.${kind}' });`,
    ' * JSON.stringify(declaration); // the body served at declaration/' + kind + '/com.example.' + kind,
    ' * ```',
    ` * @see ${url}`,
    ' */',
    `export function ${fn}(payload: ${payloadName}${required ? '' : ' = {}'}, options?: DeclarationOptions): Declaration<'${type}', ${payloadName}> {`,
    `  return ${defName}.build(payload, options);`,
    '}',
    '',
  ]);
  return { code, entry: { type, kind, name, file } };
}

function statusItemsFile(release: Release, files: DeclarativeFile[]): string {
  const decls: string[] = [];
  const entries: string[] = [];
  const values: string[] = [];
  let reason: DeclarativeFile | undefined;
  for (const f of files) {
    if (!f.payload.statusitemtype) {
      reason = f;
      continue;
    }
    const item = f.payload.statusitemtype;
    const name = nameOf(f);
    const url = sourceUrl(release, f.path);
    const key = (f.payloadkeys ?? []).find((k) => k.key === item);
    if (!key) throw new Error(`${f.path}: no key named after the status item`);
    const e = new JsonEmitter(name, 'response', [f.payloadkeys], [name]);
    const t = e.typeOf(key, 0);
    decls.push(...e.decls);
    decls.push(
      `/**\n * Value of the \`${item}\` status item.\n * @see ${url}\n */\n` +
        `export type ${name} = ${t.ts};\n\nexport const ${name}Schema: z.ZodType<${name}> = ${t.zod};\n`,
    );
    values.push(`  ${quote(item)}: ${name};`);
    entries.push(
      `  ${quote(item)}: {\n    name: ${quote(item)},\n    schema: ${name}Schema,\n    array: ${key.type === '<array>'},\n    source: ${quote(url)},\n${f.payload.beta ? '    beta: true,\n' : ''}    support: ${tsValue(supportOf(f.payload.supportedOS), 2)},\n  },`,
    );
  }
  if (reason) {
    const e = new JsonEmitter('StatusReason', 'response', [reason.payloadkeys], ['StatusReason']);
    e.object(
      'StatusReason',
      reason.payloadkeys ?? [],
      `/**\n * Why a declaration or status item failed.\n * @see ${sourceUrl(release, reason.path)}\n */\n`,
    );
    decls.push(...e.decls);
  }
  return dedupeBlankLines([
    ...bundleHead(release, files, "import type { StatusItemDefinition } from '../define';"),
    decls.join('\n'),
    '/** The value type of every status item, keyed by its dotted name. */',
    'export interface StatusItemValues {',
    ...values,
    '}',
    '',
    '/** The dotted name of every status item of the schema release. */',
    'export type StatusItemName = keyof StatusItemValues;',
    '',
    '/** Schema facts of every status item, keyed by its dotted name. */',
    'export const statusItemDefinitions: { readonly [K in StatusItemName]: StatusItemDefinition<K, StatusItemValues[K]> } = {',
    ...entries,
    '};',
    '',
  ]);
}

/**
 * Corrections where the published schema leaves out what the wire carries. `SyncTokens` names its
 * type only; the keys are `DeclarationsToken` and `Timestamp` (an RFC 3339 UTC time).
 */
function tokensErrata(keys: SchemaKey[] | undefined): SchemaKey[] {
  return (keys ?? []).map((k) =>
    k.key === 'SyncTokens' && !k.subkeys
      ? {
          ...k,
          subkeys: [
            { key: 'DeclarationsToken', type: '<string>', presence: 'required' },
            { key: 'Timestamp', type: '<string>', presence: 'required' },
          ],
        }
      : k,
  );
}

function protocolFile(release: Release, files: DeclarativeFile[]): string {
  const decls: string[] = [];
  for (const f of files) {
    const rt = (f.payload as { requesttype?: string }).requesttype!;
    const url = sourceUrl(release, f.path);
    // The server builds tokens and declaration items (strict); the device sends the status report (lenient).
    const mode: Mode = rt === 'StatusReport' ? 'response' : 'request';
    const keys = rt === 'TokensResponse' ? tokensErrata(f.payloadkeys) : f.payloadkeys;
    const e = new JsonEmitter(rt, mode, [keys], [rt]);
    e.object(rt, keys ?? [], `/**\n * The \`${rt}\` document of the DDM protocol.\n * @see ${url}\n */\n`);
    decls.push(...e.decls);
  }
  return dedupeBlankLines([...bundleHead(release, files), decls.join('\n')]);
}

function credentialsFile(release: Release, files: DeclarativeFile[]): string {
  const decls: string[] = [];
  const entries: string[] = [];
  let base64 = false;
  for (const f of files) {
    const type = f.payload.credentialtype!;
    const name = nameOf(f);
    const url = sourceUrl(release, f.path);
    const e = new JsonEmitter(name, 'request', [f.payloadkeys], [name]);
    e.object(
      name,
      f.payloadkeys ?? [],
      `/**\n * The \`${type}\` credential document an asset refers to.\n * @see ${url}\n */\n`,
    );
    decls.push(...e.decls);
    base64 ||= e.usesBase64;
    entries.push(
      `  ${quote(type)}: {\n    type: ${quote(type)},\n    schema: ${name}Schema,\n    source: ${quote(url)},\n    support: ${tsValue(supportOf(f.payload.supportedOS), 2)},\n  },`,
    );
  }
  return dedupeBlankLines([
    ...bundleHead(release, files, base64 ? "import { base64Data } from '../schema-helpers';" : null),
    decls.join('\n'),
    '/** Schema facts of every credential document, keyed by its type. */',
    'export const credentialDefinitions = {',
    ...entries,
    '} as const;',
    '',
  ]);
}

function reasonsFile(release: Release, base: DeclarativeFile): string {
  const reasons = base.reasons ?? [];
  const details = Object.fromEntries(reasons.map((r) => [r.value, (r.details ?? []).map((d) => d.key)]));
  return dedupeBlankLines([
    header(release, [base.path]),
    "/** Reason codes a device reports for a declaration, with the keys of each code's details. */",
    `export const declarationReasonDetails = ${tsValue(details, 0)} as const;`,
    '',
    '/** A reason code of the schema release (devices may send others). */',
    'export type DeclarationReasonCode = keyof typeof declarationReasonDetails;',
    '',
  ]);
}

function registryFile(release: Release, entries: DeclarationEntry[]): string {
  return dedupeBlankLines([
    `// Generated by tools/schema-gen from Apple's device-management schemas, release ${release.name}.`,
    '// Do not edit: change the generator and run `pnpm run generate`.',
    ...entries.map((e) => `import { ${e.name}Declaration } from './declarations/${e.file}';`),
    '',
    '/** Every declaration type of the schema release, keyed by its `Type`. */',
    'export const declarationDefinitions = {',
    ...entries.map((e) => `  ${quote(e.type)}: ${e.name}Declaration,`),
    '} as const;',
    '',
    '/** Every declaration `Type` known to the schema release. */',
    'export type DeclarationType = keyof typeof declarationDefinitions;',
    '',
    '/** The Apple schema release the definitions were generated from. */',
    `export const schemaRelease = { name: ${quote(release.name)}, commit: ${quote(release.commit)} } as const;`,
    '',
  ]);
}

/** Generates the `@mdmkit/declarative` sources: declarations, status items and protocol documents. */
export function generateDeclarative(schemasDir: string, release: Release): Output {
  const out: Output = new Map();
  const entries: DeclarationEntry[] = [];
  const names = new Set<string>();
  for (const [folder, kind] of KINDS) {
    for (const f of loadDeclarative(schemasDir, `declarative/declarations/${folder}`)) {
      const { code, entry } = declarationFile(release, f, kind);
      if (names.has(entry.name)) throw new Error(`${f.path}: name ${entry.name} is taken`);
      names.add(entry.name);
      entries.push(entry);
      out.set(`${DECLARATIVE_DIR}/declarations/${entry.file}.ts`, code);
    }
  }
  out.set(`${DECLARATIVE_DIR}/registry.ts`, registryFile(release, entries));
  out.set(
    `${DECLARATIVE_DIR}/status-items.ts`,
    statusItemsFile(release, loadDeclarative(schemasDir, 'declarative/status')),
  );
  out.set(
    `${DECLARATIVE_DIR}/protocol.ts`,
    protocolFile(release, loadDeclarative(schemasDir, 'declarative/protocol')),
  );
  out.set(
    `${DECLARATIVE_DIR}/credentials.ts`,
    credentialsFile(release, loadDeclarative(schemasDir, 'declarative/declarations/assets/credentials')),
  );
  out.set(
    `${DECLARATIVE_DIR}/reasons.ts`,
    reasonsFile(release, loadOne(schemasDir, 'declarative/declarations/declarationbase.yaml')),
  );
  out.set(
    `${DECLARATIVE_DIR}/index.ts`,
    [
      '// Generated by tools/schema-gen. Do not edit.',
      ...entries.map((e) => `export * from './declarations/${e.file}';`),
      "export * from './credentials';",
      "export * from './protocol';",
      "export * from './reasons';",
      "export { declarationDefinitions, type DeclarationType, schemaRelease } from './registry';",
      "export * from './status-items';",
      '',
    ].join('\n'),
  );
  return out;
}
