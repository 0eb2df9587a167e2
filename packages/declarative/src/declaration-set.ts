import { assetReferencesOf } from './asset-references';
import { canonicalJson, sha256Hex } from './canonical-json';
import {
  checkIdentifier,
  DECLARATION_KINDS,
  type Declaration,
  type DeclarationKind,
  jsonCopy,
  kindOfType,
  sealDeclaration,
} from './define';
import { DeclarativeError } from './errors';
import type {
  DeclarationItemsResponse,
  DeclarationItemsResponseDeclarationItem,
  TokensResponse,
} from './generated/protocol';
import { declarationDefinitions } from './generated/registry';
import { validate } from './validate';

/** A declaration to put in a set: a built one, or its parts (the ServerToken is computed either way). */
export interface DeclarationInput {
  readonly Type: string;
  readonly Identifier: string;
  readonly Payload: unknown;
  /** When present, must equal the token computed from the content (a changed copy is refused). */
  readonly ServerToken?: string;
}

/** Options of {@link createDeclarationSet}. */
export interface DeclarationSetOptions {
  /** When the set was last changed: `SyncTokens.Timestamp`. Default: now. */
  timestamp?: Date;
}

/**
 * The declarations one device (or one group of devices) should hold, with every token the DDM
 * protocol needs. Immutable: build a new set when something changes.
 */
export interface DeclarationSet {
  /** Every declaration, in the order given. */
  readonly declarations: readonly Declaration[];
  /** Lower-case hex SHA-256 over each declaration's kind, Identifier and ServerToken, sorted. */
  readonly declarationsToken: string;
  readonly timestamp: Date;
  /** The declaration a device asks for at `declaration/<kind>/<identifier>`, if the set holds it. */
  get(kind: DeclarationKind, identifier: string): Declaration | undefined;
  /** The `tokens` document. */
  tokens(): TokensResponse;
  /** The `declaration-items` document. */
  declarationItems(): DeclarationItemsResponse;
}

const LIST_OF: Record<DeclarationKind, keyof DeclarationItemsResponse['Declarations']> = {
  activation: 'Activations',
  asset: 'Assets',
  configuration: 'Configurations',
  management: 'Management',
};

/** `2026-12-05T17:00:00Z`: RFC 3339 in UTC without fractions, the form `SyncTokens.Timestamp` takes. */
export function syncTimestamp(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new DeclarativeError('INVALID_DECLARATION', 'timestamp: invalid Date');
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) {
    throw new DeclarativeError('INVALID_DECLARATION', 'timestamp: RFC 3339 has years 0000-9999 only');
  }
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function seal(input: DeclarationInput, index: number): Declaration {
  const path = [index];
  if (input === null || typeof input !== 'object') {
    throw new DeclarativeError(
      'INVALID_DECLARATION',
      `declarations.${index}: expected a declaration object`,
      {
        keyPath: path,
      },
    );
  }
  const { Type: type, Identifier: identifier } = input;
  if (typeof type !== 'string' || !kindOfType(type)) {
    throw new DeclarativeError(
      'UNKNOWN_DECLARATION_TYPE',
      `declarations.${index}.Type: expected com.apple.<activation|asset|configuration|management>.…`,
      { keyPath: [...path, 'Type'] },
    );
  }
  checkIdentifier(identifier, [...path, 'Identifier']);
  // Validate a plain copy: a getter cannot answer one value to the check and another to the seal.
  const payload =
    input.Payload !== null && typeof input.Payload === 'object' ? jsonCopy(input.Payload) : input.Payload;
  const def = (declarationDefinitions as Record<string, { payload: import('zod').ZodType }>)[type];
  // A type newer than the schema release is passed through; its payload must still be a JSON object.
  const schema = def?.payload;
  if (schema) validate(schema, payload, 'INVALID_DECLARATION', `${type} declaration`, [...path, 'Payload']);
  else if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new DeclarativeError('INVALID_DECLARATION', `declarations.${index}.Payload: expected an object`, {
      keyPath: [...path, 'Payload'],
    });
  }
  const sealed = sealDeclaration(type, identifier, payload as Record<string, unknown>);
  if (input.ServerToken !== undefined && input.ServerToken !== sealed.ServerToken) {
    throw new DeclarativeError(
      'INVALID_DECLARATION',
      `declarations.${index}.ServerToken: does not match the content (changed after it was built?)`,
      { keyPath: [...path, 'ServerToken'] },
    );
  }
  return sealed;
}

function missing(index: number, path: (string | number)[], what: string): never {
  throw new DeclarativeError(
    'MISSING_REFERENCE',
    `declarations.${index}.Payload.${path.join('.')}: ${what}`,
    {
      keyPath: [index, 'Payload', ...path],
    },
  );
}

/**
 * What a device would report as Error.MissingConfigurations or Error.MissingAssets, refused while
 * building: an activation naming a configuration the set lacks, a declaration naming an asset the
 * set lacks or an asset of a type that does not fit that key.
 */
function checkReferences(d: Declaration, index: number, byKey: Map<string, Declaration>): void {
  if (kindOfType(d.Type) === 'activation') {
    const refs = (d.Payload as { StandardConfigurations?: unknown }).StandardConfigurations;
    if (Array.isArray(refs)) {
      refs.forEach((ref, j) => {
        if (!byKey.has(`configuration/${ref}`)) {
          missing(index, ['StandardConfigurations', j], 'no configuration with that identifier in the set');
        }
      });
    }
  }
  for (const ref of assetReferencesOf(d)) {
    const asset = byKey.get(`asset/${ref.identifier}`);
    if (!asset) missing(index, ref.path, 'no asset with that identifier in the set');
    if (!ref.types.includes(asset.Type))
      missing(index, ref.path, `the asset is not one of ${ref.types.join(', ')}`);
  }
}

/**
 * Builds a declaration set: checks every declaration (known types against their schema), computes
 * each ServerToken and the DeclarationsToken, and checks that identifiers are unique, that every
 * activation's `StandardConfigurations` are in the set, and that every asset a declaration names is
 * in the set with a type that fits its key.
 * @throws DeclarativeError `INVALID_DECLARATION`, `UNKNOWN_DECLARATION_TYPE`, `NOT_JSON`,
 * `DUPLICATE_IDENTIFIER` or `MISSING_REFERENCE`, with the key path (index first) of the problem.
 * @example
 * ```ts
 * const passcode = passcodeSettings({ MinimumLength: 8 }, { identifier: 'passcode' });
 * const activation = activationSimple({ StandardConfigurations: ['passcode'] }, { identifier: 'all' });
 * const set = createDeclarationSet([passcode, activation]);
 * set.tokens(); // { SyncTokens: { DeclarationsToken: '…', Timestamp: '…' } }
 * set.declarationItems().Declarations.Configurations; // [{ Identifier: 'passcode', ServerToken: '…' }]
 * ```
 */
export function createDeclarationSet(
  declarations: Iterable<DeclarationInput>,
  options: DeclarationSetOptions = {},
): DeclarationSet {
  const list: Declaration[] = [];
  const byKey = new Map<string, Declaration>();
  const seen = new Map<string, number>();
  let i = 0;
  for (const input of declarations) {
    const d = seal(input, i);
    // Identifiers are unique across the whole set: status reports name a declaration by identifier only.
    const before = seen.get(d.Identifier);
    if (before !== undefined) {
      throw new DeclarativeError(
        'DUPLICATE_IDENTIFIER',
        `declarations.${i}.Identifier: also used by declarations.${before}`,
        { keyPath: [i, 'Identifier'] },
      );
    }
    seen.set(d.Identifier, i);
    byKey.set(`${kindOfType(d.Type)}/${d.Identifier}`, d);
    list.push(d);
    i++;
  }
  list.forEach((d, index) => {
    checkReferences(d, index, byKey);
  });
  const timestamp = new Date(options.timestamp ?? Date.now());
  const stamp = syncTimestamp(timestamp);
  const entries = list
    .map((d) => [kindOfType(d.Type)!, d.Identifier, d.ServerToken] as const)
    // Identifiers are unique in the set, so they alone give one order whatever the input order.
    .sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const declarationsToken = sha256Hex(canonicalJson(entries));
  const frozen = Object.freeze([...list]);
  return Object.freeze({
    declarations: frozen,
    declarationsToken,
    timestamp,
    get(kind: DeclarationKind, identifier: string): Declaration | undefined {
      return byKey.get(`${kind}/${identifier}`);
    },
    tokens(): TokensResponse {
      return { SyncTokens: { DeclarationsToken: declarationsToken, Timestamp: stamp } };
    },
    declarationItems(): DeclarationItemsResponse {
      const lists: Record<string, DeclarationItemsResponseDeclarationItem[]> = {};
      for (const kind of DECLARATION_KINDS) lists[LIST_OF[kind]] = [];
      for (const d of list)
        lists[LIST_OF[kindOfType(d.Type)!]]!.push({ Identifier: d.Identifier, ServerToken: d.ServerToken });
      return {
        Declarations: lists as unknown as DeclarationItemsResponse['Declarations'],
        DeclarationsToken: declarationsToken,
      };
    },
  });
}
