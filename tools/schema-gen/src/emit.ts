import { OS_NAMES, type OsSupportYaml, type SchemaKey } from './model';

/**
 * `request`: values the server sends (integers are checked as integers, ranges enforced, enums closed).
 * `response`: values a device sends (numbers stay lenient: devices send reals for integer keys; enums
 * are open, because a newer OS may send a value the schema release does not list yet).
 */
export type Mode = 'request' | 'response';

export interface Emitted {
  ts: string;
  zod: string;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A single-quoted TS string literal. */
export function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

export function propName(s: string): string {
  return IDENT.test(s) ? s : quote(s);
}

export function pascal(s: string): string {
  return s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

function literal(v: unknown): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** The keys of one object plus the key names to leave out (identity keys of check-ins). */
export interface ObjectOptions {
  omit?: ReadonlySet<string>;
  optional?: ReadonlySet<string>;
  /** Extra TS members / zod shape entries placed first (e.g. `...identityShape`). */
  spread?: string;
  /** Closed enums even in `response` mode: for what the server sends back in a check-in exchange. */
  closedEnums?: boolean;
  /** Keys that name which kind of object this is (MessageType, a union's discriminator): always closed. */
  tags?: ReadonlySet<string>;
}

/**
 * Turns Apple's key trees into TypeScript interfaces and zod schemas. Shared YAML anchors become
 * named declarations; a reference back into a declaration still being built becomes `z.lazy`.
 */
export class Emitter {
  readonly decls: string[] = [];
  /**
   * Wraps each schema in a call marked `@__PURE__`, so that a bundler drops the schemas of every
   * command a program does not use (zod's constructors are calls a bundler must otherwise keep).
   */
  pure = false;
  usesData = false;
  usesDate = false;
  usesReal = false;
  /**
   * Set by generators whose output is written as a property list: `<real>` keys are wrapped in
   * `plistReal(…)` (TS `number | PlistReal`), so that a whole number is still written as `<real>`.
   */
  wrapReals = false;
  private readonly refs = new Map<SchemaKey[], number>();
  private readonly names = new Map<SchemaKey[], Map<string, string>>();
  private readonly building = new Set<string>();
  private readonly taken = new Set<string>();
  /** Whether enums currently being emitted accept values beyond the listed ones. */
  private openEnums: boolean;

  constructor(
    private readonly prefix: string,
    private readonly mode: Mode,
    roots: (SchemaKey[] | undefined)[],
    reserved: string[] = [],
  ) {
    this.openEnums = mode === 'response';
    for (const r of reserved) this.taken.add(r);
    const seen = new Set<SchemaKey[]>();
    const walk = (keys: SchemaKey[]) => {
      for (const k of keys) {
        if (!k.subkeys) continue;
        this.refs.set(k.subkeys, (this.refs.get(k.subkeys) ?? 0) + 1);
        if (seen.has(k.subkeys)) continue;
        seen.add(k.subkeys);
        walk(k.subkeys);
      }
    };
    for (const r of roots) if (r) walk(r);
  }

  private init(zod: string): string {
    return this.pure ? `/* @__PURE__ */ (() => ${zod})()` : zod;
  }

  /** Emits a top-level object as `export interface name` + `export const nameSchema`. */
  object(name: string, keys: SchemaKey[], doc: string, opts: ObjectOptions = {}, extendsClause = ''): void {
    this.taken.add(name);
    const body = opts.closedEnums
      ? this.closed(() => this.objectParts(keys, 1, opts))
      : this.objectParts(keys, 1, opts);
    const spreadTs = extendsClause ? ` extends ${extendsClause}` : '';
    this.decls.push(
      `${doc}export interface ${name}${spreadTs} ${body.ts}\n\n` +
        `export const ${name}Schema: z.ZodType<${name}> = ${this.init(body.zod)};\n`,
    );
  }

  private closed<T>(emit: () => T): T {
    const open = this.openEnums;
    this.openEnums = false;
    try {
      return emit();
    } finally {
      this.openEnums = open;
    }
  }

  private uniqueName(base: string): string {
    let name = this.prefix + pascal(base);
    let i = 2;
    while (this.taken.has(name)) name = `${this.prefix}${pascal(base)}${i++}`;
    this.taken.add(name);
    return name;
  }

  private objectParts(keys: SchemaKey[], depth: number, opts: ObjectOptions = {}): Emitted {
    const pad = '  '.repeat(depth);
    const tsLines: string[] = [];
    const zodLines: string[] = [];
    if (opts.spread) zodLines.push(`${pad}...${opts.spread},`);
    for (const k of keys) {
      if (opts.omit?.has(k.key)) continue;
      const t = opts.tags?.has(k.key) ? this.closed(() => this.typeOf(k, depth)) : this.typeOf(k, depth);
      // In what devices send, a key with its own availability (absent on some OS, later version,
      // channel or enrollment type) cannot be present in every report, whatever `presence` says.
      const optional =
        k.presence !== 'required' ||
        opts.optional?.has(k.key) === true ||
        (this.mode === 'response' && k.supportedOS !== undefined);
      const doc = facts(k);
      if (doc) tsLines.push(`${pad}/** ${doc} */`);
      tsLines.push(`${pad}${propName(k.key)}${optional ? '?' : ''}: ${t.ts};`);
      zodLines.push(`${pad}${propName(k.key)}: ${t.zod}${optional ? '.optional()' : ''},`);
    }
    const close = '  '.repeat(depth - 1);
    return {
      ts: tsLines.length ? `{\n${tsLines.join('\n')}\n${close}}` : '{}',
      zod: zodLines.length ? `z.looseObject({\n${zodLines.join('\n')}\n${close}})` : 'z.looseObject({})',
    };
  }

  /** Named declaration for a shared (anchored) subkey list in a given container context. */
  private named(k: SchemaKey, context: 'dict' | 'array', build: () => Emitted): Emitted {
    const subkeys = k.subkeys!;
    let byContext = this.names.get(subkeys);
    if (!byContext) {
      byContext = new Map();
      this.names.set(subkeys, byContext);
    }
    let name = byContext.get(context);
    if (name) {
      return this.building.has(name)
        ? { ts: name, zod: `z.lazy(() => ${name}Schema)` }
        : { ts: name, zod: `${name}Schema` };
    }
    name = this.uniqueName(context === 'dict' ? (k.subkeytype ?? k.key) : `${k.subkeytype ?? k.key}Item`);
    byContext.set(context, name);
    this.building.add(name);
    const body = build();
    this.building.delete(name);
    const ts =
      context === 'dict' && body.ts.startsWith('{')
        ? `export interface ${name} ${body.ts}`
        : `export type ${name} = ${body.ts};`;
    this.decls.push(`${ts}\n\nexport const ${name}Schema: z.ZodType<${name}> = ${this.init(body.zod)};\n`);
    return { ts: name, zod: `${name}Schema` };
  }

  private isShared(k: SchemaKey): boolean {
    return k.subkeys !== undefined && (this.refs.get(k.subkeys) ?? 0) > 1;
  }

  /** `tag`: for a dictionary member of a discriminated union, the discriminating key. */
  typeOf(k: SchemaKey, depth: number, tag?: string): Emitted {
    switch (k.type) {
      case '<string>': {
        const values = k.rangelist ?? (k.subkeys?.length ? k.subkeys.map((s) => s.key) : undefined);
        if (values?.length) return enumOf(values, this.openEnums);
        return { ts: 'string', zod: 'z.string()' };
      }
      case '<integer>':
      case '<real>': {
        const n = this.numberOf(k);
        if (k.type !== '<real>' || !this.wrapReals) return n;
        this.usesReal = true;
        return { ts: `${n.ts} | PlistReal`, zod: `plistReal(${n.zod})` };
      }
      case '<boolean>':
        return { ts: 'boolean', zod: 'z.boolean()' };
      case '<date>':
        this.usesDate = true;
        return { ts: 'Date', zod: 'plistDate' };
      case '<data>':
        this.usesData = true;
        return { ts: 'Uint8Array', zod: 'plistData' };
      case '<any>':
        return { ts: 'unknown', zod: 'z.unknown()' };
      case '<dictionary>':
        return this.dictionary(k, depth, tag);
      case '<array>':
        return this.array(k, depth);
      default:
        throw new Error(`unknown schema type ${k.type} for key ${k.key}`);
    }
  }

  private numberOf(k: SchemaKey): Emitted {
    if (k.rangelist?.length) return enumOf(k.rangelist, this.openEnums);
    let zod = 'z.number()';
    if (this.mode === 'request') {
      if (k.type === '<integer>') zod += '.int()';
      if (typeof k.range?.min === 'number') zod += `.min(${k.range.min})`;
      if (typeof k.range?.max === 'number') zod += `.max(${k.range.max})`;
    }
    return { ts: 'number', zod };
  }

  private dictionary(k: SchemaKey, depth: number, tag?: string): Emitted {
    const subkeys = k.subkeys ?? [];
    if (subkeys.length === 0)
      return { ts: 'Record<string, unknown>', zod: 'z.record(z.string(), z.unknown())' };
    // `ANY`, `ANY profile identifier`, `ANY index`...: a dictionary keyed by arbitrary names.
    if (subkeys.length === 1 && isWildcard(subkeys[0]!.key)) {
      const v = this.typeOf(subkeys[0]!, depth);
      return { ts: `Record<string, ${v.ts}>`, zod: `z.record(z.string(), ${v.zod})` };
    }
    // Known keys next to `ANY`: the loose object keeps the arbitrary others as they are.
    const build = (d: number) =>
      this.objectParts(
        subkeys.filter((s) => s.key !== 'ANY'),
        d,
        tag ? { tags: new Set([tag]) } : {},
      );
    if (this.isShared(k)) return this.named(k, 'dict', () => build(1));
    return build(depth + 1);
  }

  private array(k: SchemaKey, depth: number): Emitted {
    const subkeys = k.subkeys ?? [];
    if (subkeys.length === 0) return { ts: 'unknown[]', zod: 'z.array(z.unknown())' };
    const item = (d: number): Emitted => {
      if (subkeys.length === 1) return this.typeOf(subkeys[0]!, d);
      const disc = discriminator(subkeys);
      const members = subkeys.map((s) => this.typeOf(s, d, disc));
      const ts = members.map((m) => m.ts).join(' | ');
      const inner = members.map((m) => m.zod).join(', ');
      return {
        ts: `(${ts})`,
        zod: disc ? `z.discriminatedUnion(${quote(disc)}, [${inner}])` : `z.union([${inner}])`,
      };
    };
    if (this.isShared(k)) {
      const named = this.named(k, 'array', () => item(0));
      return { ts: `${named.ts}[]`, zod: `z.array(${named.zod})` };
    }
    const it = item(depth);
    if (k.acceptSingle)
      return { ts: `${it.ts}[] | ${it.ts}`, zod: `z.union([z.array(${it.zod}), ${it.zod}])` };
    const ts = /^[A-Za-z0-9_<>, ]+$/.test(it.ts) || it.ts.startsWith('(') ? `${it.ts}[]` : `Array<${it.ts}>`;
    return { ts, zod: `z.array(${it.zod})` };
  }
}

function isWildcard(key: string): boolean {
  return key === 'ANY' || key.startsWith('ANY ');
}

/** Dictionary union members that all pin one key to a single literal are discriminated by it. */
function discriminator(members: SchemaKey[]): string | undefined {
  if (!members.every((m) => m.type === '<dictionary>' && m.subkeys?.length)) return undefined;
  const first = members[0]!.subkeys!;
  for (const cand of first) {
    const ok = members.every((m) =>
      m.subkeys!.some((s) => s.key === cand.key && s.presence === 'required' && s.rangelist?.length === 1),
    );
    if (ok) return cand.key;
  }
  return undefined;
}

/**
 * An enum of allowed values. Closed: exactly those values. Open (what devices send): the listed
 * values stay in the TypeScript type for completion, but any string (or number) is accepted and kept,
 * so a value added by a newer OS decodes instead of failing the whole message.
 */
function enumOf(values: unknown[], open: boolean): Emitted {
  const ts = values.map(literal).join(' | ');
  const strings = values.every((v) => typeof v === 'string');
  const closed =
    values.length === 1
      ? `z.literal(${literal(values[0])})`
      : strings
        ? `z.enum([${values.map(literal).join(', ')}])`
        : `z.literal([${values.map(literal).join(', ')}])`;
  if (!open) return { ts, zod: closed };
  const numbers = values.every((v) => typeof v === 'number');
  if (!strings && !numbers) return { ts, zod: closed };
  const base = strings ? 'string' : 'number';
  return { ts: `${ts} | (${base} & {})`, zod: `z.union([${closed}, z.${base}()])` };
}

/** One line of facts about a key: default, range and per-OS availability. Never Apple's prose. */
export function facts(k: SchemaKey): string {
  const parts: string[] = [];
  if (k.default !== undefined && k.default !== null) parts.push(`Default: \`${JSON.stringify(k.default)}\`.`);
  if (k.range && (k.range.min !== undefined || k.range.max !== undefined)) {
    parts.push(`Range: ${k.range.min ?? ''}..${k.range.max ?? ''}.`);
  }
  const avail = availability(k.supportedOS);
  if (avail) parts.push(avail);
  return parts.join(' ');
}

/** Compact availability summary, e.g. `iOS 7.0+, macOS 10.14+; not on visionOS; supervised on iOS`. */
export function availability(so: Record<string, OsSupportYaml | null> | undefined): string {
  if (!so) return '';
  const on: string[] = [];
  const off: string[] = [];
  const extra: string[] = [];
  for (const os of OS_NAMES) {
    const s = so[os];
    if (!s) continue;
    if (s.introduced === 'n/a') {
      off.push(os);
      continue;
    }
    let v = s.introduced ? `${os} ${s.introduced}+` : '';
    if (s.deprecated) v += `${v ? ' ' : `${os} `}(deprecated ${s.deprecated})`;
    if (s.removed) v += `${v ? ' ' : `${os} `}(removed ${s.removed})`;
    if (v) on.push(v);
    if (s.supervised) extra.push(`supervised on ${os}`);
    if (s.devicechannel === false) extra.push(`user channel only on ${os}`);
    if (s.userchannel === false && s.devicechannel === undefined) extra.push(`device channel only on ${os}`);
    if (s.userenrollment?.mode === 'forbidden') extra.push(`not with User Enrollment on ${os}`);
    if (s.userenrollment?.mode === 'required') extra.push(`User Enrollment only on ${os}`);
    if (s.accessrights && s.accessrights !== 'None') extra.push(`access right ${s.accessrights} on ${os}`);
  }
  const out: string[] = [];
  if (on.length) out.push(on.join(', '));
  if (off.length) out.push(`not on ${off.join(', ')}`);
  if (extra.length) out.push(extra.join(', '));
  return out.length ? `Availability: ${out.join('; ')}.` : '';
}
