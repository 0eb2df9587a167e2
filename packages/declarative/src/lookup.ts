import type { Declaration, DeclarationDefinition, DeclarationOptions } from './define';
import { DeclarativeError } from './errors';
import { declarationDefinitions, type DeclarationType } from './generated/registry';

/** The payload type of a declaration type. */
export type PayloadOf<T extends DeclarationType> =
  (typeof declarationDefinitions)[T] extends DeclarationDefinition<T, infer P> ? P : never;

/** Whether the schema release describes `type`. */
export function isKnownDeclarationType(type: string): type is DeclarationType {
  return Object.hasOwn(declarationDefinitions, type);
}

/** Every declaration type of the schema release, sorted. */
export function listDeclarationTypes(): DeclarationType[] {
  return (Object.keys(declarationDefinitions) as DeclarationType[]).sort();
}

/**
 * The definition of a declaration type (payload validator, kind, availability).
 * @throws DeclarativeError `UNKNOWN_DECLARATION_TYPE`.
 * @example
 * ```ts
 * getDeclarationDefinition('com.apple.configuration.passcode.settings').support.iOS?.introduced; // '15.0'
 * ```
 */
export function getDeclarationDefinition<T extends DeclarationType>(
  type: T,
): (typeof declarationDefinitions)[T] {
  if (!isKnownDeclarationType(type)) {
    throw new DeclarativeError(
      'UNKNOWN_DECLARATION_TYPE',
      `no schema describes declaration type ${String(type).slice(0, 128)}`,
    );
  }
  return declarationDefinitions[type];
}

/**
 * Builds a declaration of a type named at run time (for types read from configuration or an API).
 * @throws DeclarativeError `UNKNOWN_DECLARATION_TYPE` or `INVALID_DECLARATION`.
 * @example
 * ```ts
 * const d = buildDeclaration('com.apple.configuration.passcode.settings', { MinimumLength: 6 }, { identifier: 'passcode' });
 * ```
 */
export function buildDeclaration<T extends DeclarationType>(
  type: T,
  payload: PayloadOf<T>,
  options?: DeclarationOptions,
): Declaration<T, PayloadOf<T>> {
  const def = getDeclarationDefinition(type) as unknown as DeclarationDefinition<T, PayloadOf<T> & object>;
  return def.build(payload as PayloadOf<T> & object, options) as Declaration<T, PayloadOf<T>>;
}
