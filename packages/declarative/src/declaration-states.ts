import type { DeclarationSet } from './declaration-set';
import { DECLARATION_KINDS, type DeclarationKind, kindOfType } from './define';
import type { DeclarationReasonCode } from './generated/reasons';
import type { StatusManagementDeclarations } from './generated/status-items';

/** A reason a device gives for a declaration's state; codes beyond the schema release are kept. */
export interface DeclarationReason {
  code: DeclarationReasonCode | (string & {});
  description?: string;
  details?: Record<string, unknown>;
}

/** One declaration as the server's set and the device's `management.declarations` status see it. */
export interface DeclarationState {
  kind: DeclarationKind;
  identifier: string;
  /**
   * `current`: the device holds the set's version. `stale`: it holds another ServerToken (not yet
   * synced, or a failed fetch). `missing`: in the set, not reported. `extra`: reported, not in the set
   * (not yet removed on the device).
   */
  sync: 'current' | 'stale' | 'missing' | 'extra';
  /** What the device reports; absent for `missing`. */
  active?: boolean;
  valid?: 'unknown' | 'invalid' | 'valid' | (string & {});
  serverToken?: string;
  reasons: DeclarationReason[];
}

const LIST_OF: Record<DeclarationKind, keyof StatusManagementDeclarations> = {
  activation: 'activations',
  asset: 'assets',
  configuration: 'configurations',
  management: 'management',
};

/**
 * Joins a set with the `management.declarations` status item a device sent: for each declaration,
 * whether the device holds the current version, and whether it is active and valid, with its reasons.
 * Entries a malformed report leaves without an identifier are skipped.
 * @example
 * ```ts
 * const report = parseStatusReport(data);
 * const declared = report.items['management.declarations'];
 * if (declared) {
 *   for (const s of declarationStates(set, declared)) {
 *     if (s.valid === 'invalid') console.warn(s.identifier, s.reasons.map((r) => r.code));
 *   }
 * }
 * ```
 */
export function declarationStates(
  set: DeclarationSet,
  reported: StatusManagementDeclarations,
): DeclarationState[] {
  const out: DeclarationState[] = [];
  const seen = new Set<string>();
  for (const kind of DECLARATION_KINDS) {
    const list = reported?.[LIST_OF[kind]];
    for (const entry of Array.isArray(list) ? list : []) {
      if (typeof entry?.identifier !== 'string') continue;
      const ours = set.get(kind, entry.identifier);
      seen.add(`${kind}/${entry.identifier}`);
      out.push({
        kind,
        identifier: entry.identifier,
        sync: !ours ? 'extra' : ours.ServerToken === entry['server-token'] ? 'current' : 'stale',
        active: entry.active,
        valid: entry.valid,
        serverToken: entry['server-token'],
        reasons: Array.isArray(entry.reasons) ? entry.reasons : [],
      });
    }
  }
  for (const d of set.declarations) {
    const kind = kindOfType(d.Type)!;
    if (!seen.has(`${kind}/${d.Identifier}`)) {
      out.push({ kind, identifier: d.Identifier, sync: 'missing', reasons: [] });
    }
  }
  return out;
}
