import type { DeviceModel } from './models';

/** A declaration the virtual device holds, as the server sent it. */
export interface HeldDeclaration {
  Type: string;
  Identifier: string;
  ServerToken: string;
  Payload: unknown;
}

/** The four lists of `declaration-items` and `management.declarations`, by DDM kind. */
const KINDS = [
  ['Activations', 'activations', 'activation'],
  ['Configurations', 'configurations', 'configuration'],
  ['Assets', 'assets', 'asset'],
  ['Management', 'management', 'management'],
] as const;

/** What the server's `declaration-items` document lists: kind path segment, identifier, token. */
export interface DeclarationItem {
  kind: 'activation' | 'configuration' | 'asset' | 'management';
  identifier: string;
  serverToken: string;
}

/**
 * Reads a `declaration-items` document into a flat list.
 *
 * @example
 * ```ts
 * const items = declarationItemsOf(JSON.parse(body));
 * ```
 */
export function declarationItemsOf(doc: unknown): DeclarationItem[] {
  const lists = (doc as { Declarations?: Record<string, unknown> } | undefined)?.Declarations ?? {};
  const out: DeclarationItem[] = [];
  for (const [list, , kind] of KINDS) {
    const entries = lists[list];
    if (!Array.isArray(entries)) continue;
    for (const e of entries as { Identifier?: unknown; ServerToken?: unknown }[]) {
      if (typeof e.Identifier === 'string' && typeof e.ServerToken === 'string') {
        out.push({ kind, identifier: e.Identifier, serverToken: e.ServerToken });
      }
    }
  }
  return out;
}

/** Software update and FileVault facts the device reports. */
export interface DeviceDdmFacts {
  model: DeviceModel;
  /** A pending OS update, when one is downloaded. */
  pendingUpdate?: { osVersion: string; buildVersion: string };
  fileVaultEnabled: boolean;
}

/**
 * A full DDM status report as a device sends it after a sync: every held declaration with its state
 * (an activation is active; what an active activation names is active; everything is valid), the
 * software-update items and, on macOS, FileVault.
 *
 * @example
 * ```ts
 * const report = statusReport(held, { model, fileVaultEnabled: true });
 * ```
 */
export function statusReport(
  held: readonly HeldDeclaration[],
  facts: DeviceDdmFacts,
): Record<string, unknown> {
  const activated = new Set<string>();
  for (const d of held) {
    if (!d.Type.startsWith('com.apple.activation.')) continue;
    const refs = (d.Payload as { StandardConfigurations?: unknown } | null)?.StandardConfigurations;
    if (Array.isArray(refs)) for (const r of refs) if (typeof r === 'string') activated.add(r);
  }
  const declarations: Record<string, unknown[]> = {
    activations: [],
    configurations: [],
    assets: [],
    management: [],
  };
  for (const d of held) {
    const kind = d.Type.split('.')[2];
    const entry = KINDS.find((k) => k[2] === kind);
    if (!entry) continue;
    const active =
      kind === 'activation' || kind === 'management' || activated.has(d.Identifier) || kind === 'asset';
    declarations[entry[1]]!.push({
      identifier: d.Identifier,
      'server-token': d.ServerToken,
      active,
      valid: 'valid',
    });
  }
  const items: Record<string, unknown> = {
    management: { declarations },
    softwareupdate: {
      'install-state': facts.pendingUpdate ? 'prepared' : 'none',
      ...(facts.pendingUpdate
        ? {
            'pending-version': {
              'os-version': facts.pendingUpdate.osVersion,
              'build-version': facts.pendingUpdate.buildVersion,
            },
          }
        : {}),
      'failure-reason': { count: 0 },
    },
    device: {
      'operating-system': { version: facts.model.osVersion, 'build-version': facts.model.buildVersion },
    },
  };
  if (facts.model.platform === 'macOS') {
    items.diskmanagement = { filevault: { enabled: facts.fileVaultEnabled } };
  }
  return { StatusItems: items, Errors: [] };
}
