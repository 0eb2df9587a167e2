import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical-json';
import { DeclarativeError } from './errors';
import type { DeclarativeSupport } from './support';
import { validate } from './validate';

/** The four kinds of declaration; each has its own list in `declaration-items` and its own path. */
export type DeclarationKind = 'activation' | 'asset' | 'configuration' | 'management';

export const DECLARATION_KINDS: readonly DeclarationKind[] = [
  'activation',
  'asset',
  'configuration',
  'management',
];

/** Apple's limit on `Identifier` and `ServerToken`, in UTF-8 bytes. */
export const MAX_IDENTIFIER_BYTES = 64;

/**
 * One declaration as it travels in JSON. Built ones are deeply frozen, so the ServerToken always
 * matches the content it was computed from.
 */
export interface Declaration<T extends string = string, P = Record<string, unknown>> {
  readonly Type: T;
  readonly Identifier: string;
  /** Lower-case hex SHA-256 of the canonical JSON of `{ Type, Identifier, Payload }`. */
  readonly ServerToken: string;
  readonly Payload: P;
}

/** Options of every declaration builder. */
export interface DeclarationOptions {
  /** The declaration's `Identifier` (1–64 UTF-8 bytes, no control characters); a fresh UUID when absent. */
  identifier?: string;
}

/** What the generator knows about one declaration type. */
export interface DeclarationDefinition<T extends string = string, P extends object = object> {
  readonly type: T;
  readonly kind: DeclarationKind;
  /** Validator of the payload. */
  readonly payload: z.ZodType<P>;
  /** The schema file in Apple's repository at the pinned release. */
  readonly source: string;
  /** How a device combines several declarations of this type: `single`, `multiple` or `combined`. */
  readonly apply?: string;
  /** True when the schema marks the declaration as beta. */
  readonly beta?: boolean;
  /** Payload keys that hold an asset's identifier (`*` stands for each array item), with the asset types that fit. */
  readonly assetReferences?: readonly AssetReference[];
  readonly support: DeclarativeSupport;
  /** Validates `payload` and returns the declaration with its ServerToken. */
  build(payload: P, options?: DeclarationOptions): Declaration<T, P>;
}

/** Where a payload names an asset, and which asset `Type`s may be named there. */
export interface AssetReference {
  readonly path: readonly string[];
  readonly types: readonly string[];
}

/** What the generator knows about one status item. */
export interface StatusItemDefinition<N extends string = string, V = unknown> {
  readonly name: N;
  /** Validator of the item's value (lenient: open enums, loose objects). */
  readonly schema: z.ZodType<V>;
  /** Array items arrive in incremental reports as changes, with removals marked `_removed`. */
  readonly array: boolean;
  readonly source: string;
  readonly beta?: boolean;
  readonly support: DeclarativeSupport;
}

/** The kind a `Type` names: `com.apple.configuration.…` is a configuration. */
export function kindOfType(type: string): DeclarationKind | undefined {
  const kind = /^com\.apple\.([a-z]+)\./.exec(type)?.[1];
  return DECLARATION_KINDS.includes(kind as DeclarationKind) ? (kind as DeclarationKind) : undefined;
}

/** Throws unless `identifier` is 1–64 UTF-8 bytes without control characters. */
export function checkIdentifier(identifier: unknown, path: (string | number)[] = ['Identifier']): string {
  if (typeof identifier !== 'string' || identifier.length === 0) {
    throw new DeclarativeError('INVALID_DECLARATION', 'Identifier: expected a non-empty string', {
      keyPath: path,
    });
  }
  if (Buffer.byteLength(identifier, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new DeclarativeError(
      'INVALID_DECLARATION',
      `Identifier: longer than ${MAX_IDENTIFIER_BYTES} bytes`,
      {
        keyPath: path,
      },
    );
  }
  if (/[\u0000-\u001f\u007f]/.test(identifier)) {
    throw new DeclarativeError('INVALID_DECLARATION', 'Identifier: contains a control character', {
      keyPath: path,
    });
  }
  return identifier;
}

/**
 * The ServerToken of a declaration: lower-case hex SHA-256 of the canonical JSON of
 * `{ Type, Identifier, Payload }`. Key order and `undefined` members do not change it; any change of
 * a value does.
 * @throws DeclarativeError `NOT_JSON` when the payload holds a value JSON cannot carry.
 * @example
 * ```ts
 * serverTokenOf({ Type: 'com.apple.configuration.management.test', Identifier: 't', Payload: { Echo: 'hi' } });
 * ```
 */
export function serverTokenOf(content: { Type: string; Identifier: string; Payload: unknown }): string {
  return sha256Hex(
    canonicalJson({ Type: content.Type, Identifier: content.Identifier, Payload: content.Payload }),
  );
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/**
 * A deep copy of `value` through its canonical JSON: plain data only, so what is validated is what is
 * sealed, whatever getters or proxies the input has.
 * @throws DeclarativeError `NOT_JSON` as {@link canonicalJson}.
 */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(canonicalJson(value)) as T;
}

/**
 * Assembles a declaration from already validated parts: the payload is copied through its canonical
 * JSON (so later changes to the caller's object cannot reach it), the token computed and the whole
 * frozen.
 */
export function sealDeclaration<T extends string, P>(
  type: T,
  identifier: string,
  payload: P,
): Declaration<T, P> {
  const text = canonicalJson(payload);
  const copy = JSON.parse(text) as P;
  return deepFreeze({
    Type: type,
    Identifier: identifier,
    ServerToken: serverTokenOf({ Type: type, Identifier: identifier, Payload: copy }),
    Payload: copy,
  });
}

/** Used by generated code: binds a definition's facts to its builder. */
export function defineDeclaration<T extends string, P extends object>(
  def: Omit<DeclarationDefinition<T, P>, 'build'>,
): DeclarationDefinition<T, P> {
  return {
    ...def,
    build(payload: P, options?: DeclarationOptions): Declaration<T, P> {
      const identifier = checkIdentifier(options?.identifier ?? randomUUID());
      const copy = jsonCopy(payload ?? ({} as P));
      const valid = validate(def.payload, copy, 'INVALID_DECLARATION', `${def.type} declaration`, [
        'Payload',
      ]);
      return sealDeclaration(def.type, identifier, valid);
    },
  };
}
