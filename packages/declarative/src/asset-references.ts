import type { AssetReference, Declaration } from './define';
import { declarationDefinitions } from './generated/registry';

/** One asset a declaration names: where, which identifier, and which asset types fit there. */
export interface NamedAsset {
  /** Key path inside `Payload`, array indexes included. */
  path: (string | number)[];
  identifier: string;
  types: readonly string[];
}

function follow(
  node: unknown,
  ref: AssetReference,
  at: number,
  path: (string | number)[],
  out: NamedAsset[],
): void {
  if (at === ref.path.length) {
    if (typeof node === 'string') out.push({ path, identifier: node, types: ref.types });
    return;
  }
  const step = ref.path[at]!;
  if (step === '*') {
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        follow(item, ref, at + 1, [...path, i], out);
      });
    }
    return;
  }
  if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, step)) {
    follow((node as Record<string, unknown>)[step], ref, at + 1, [...path, step], out);
  }
}

/**
 * The assets a declaration's payload names, found through the schema's asset-reference keys
 * (`AuthenticationCredentialsAssetReference`, `LaunchdConfigurations[*].FileAssetReference`, …).
 * Types the schema release does not know name none.
 * @example
 * ```ts
 * assetReferencesOf(ldapAccount); // [{ path: ['AuthenticationCredentialsAssetReference'], identifier: 'cred', types: ['com.apple.asset.credential.userpassword'] }]
 * ```
 */
export function assetReferencesOf(declaration: Pick<Declaration, 'Type' | 'Payload'>): NamedAsset[] {
  const def = (declarationDefinitions as Record<string, { assetReferences?: readonly AssetReference[] }>)[
    declaration.Type
  ];
  const out: NamedAsset[] = [];
  if (!def || !Object.hasOwn(declarationDefinitions, declaration.Type)) return out;
  for (const ref of def.assetReferences ?? []) follow(declaration.Payload, ref, 0, [], out);
  return out;
}
