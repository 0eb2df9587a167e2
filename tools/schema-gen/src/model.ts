/** Shape of one entry of `payloadkeys` / `responsekeys` / `subkeys` in Apple's YAML (docs/schema.md). */
export interface SchemaKey {
  key: string;
  type: string;
  presence?: string | null;
  rangelist?: unknown[];
  default?: unknown;
  subkeys?: SchemaKey[];
  subkeytype?: string;
  supportedOS?: Record<string, OsSupportYaml | null>;
  range?: { min?: number; max?: number };
  repetition?: { min?: number; max?: number };
  format?: string;
  /** Generator-only: an array key that devices may also send as its single item. */
  acceptSingle?: boolean;
}

export interface OsSupportYaml {
  introduced?: string;
  deprecated?: string;
  removed?: string;
  accessrights?: string;
  supervised?: boolean;
  requiresdep?: boolean;
  userapprovedmdm?: boolean;
  devicechannel?: boolean;
  userchannel?: boolean;
  sharedipad?: { mode?: string; devicechannel?: boolean; userchannel?: boolean } | null;
  userenrollment?: { mode?: string } | null;
}

/** A whole schema file. */
export interface SchemaFile {
  /** Path relative to the schema root, e.g. `mdm/commands/device.lock.yaml`. */
  path: string;
  payload: { requesttype?: string; payloadtype?: string; supportedOS?: Record<string, OsSupportYaml | null> };
  payloadkeys?: SchemaKey[];
  responsekeys?: SchemaKey[];
}

/** Where the generated code goes and which release it was made from. */
export interface Release {
  commit: string;
  name: string;
}

export const OS_NAMES = ['iOS', 'macOS', 'tvOS', 'visionOS', 'watchOS'] as const;
