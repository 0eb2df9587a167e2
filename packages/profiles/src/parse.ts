import { type PlistDict, type PlistLimits, type PlistValue, parse } from '@mdmkit/plist';
import { ProfileError, type ProfileIssue } from './errors';
import { ProfileTopLevelSchema } from './generated/top-level';
import type { CommonPayloadKeys } from './generated/top-level';
import type { PayloadType } from './generated/registry';
import { getPayloadDefinition, type PayloadContentOf } from './lookup';
import { countedSchemaIssues, MAX_ISSUES, moreIssues, schemaIssues } from './validate';

/** Limits applied to a profile's property list; small next to the plist package's own defaults. */
export const defaultProfileLimits: Readonly<PlistLimits> = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 64,
  maxObjects: 1_000_000,
  maxStringLength: 4 * 1024 * 1024,
  maxDataLength: 16 * 1024 * 1024,
  maxExpansion: 32,
  minExpansionBytes: 4 * 1024 * 1024,
});

/** Most payloads read from one profile. */
export const MAX_PAYLOADS = 10_000;

/** One payload as read: every key kept as received, typed when it conforms to its schema. */
export interface ParsedPayload {
  /** Position in PayloadContent. */
  index: number;
  /** PayloadType as received ('' when missing). */
  payloadType: string;
  identifier?: string;
  uuid?: string;
  /** The schema release describes this type. */
  known: boolean;
  /** Known and without any schema issue. */
  valid: boolean;
  /** The whole dictionary, unknown keys included. */
  dict: PlistDict;
  /** Keys the schema release does not name for this type (kept in `dict`). */
  unknownKeys: string[];
}

/** A profile as read. Nothing is dropped: problems are listed in `issues`. */
export interface ParsedProfile {
  /** The top-level dictionary as received. */
  dict: PlistDict;
  payloads: ParsedPayload[];
  /**
   * The problems found, each with its key path (`['PayloadContent', index, …]` inside a payload): the
   * first 1000, then one issue that counts the rest (`payloads[i].valid` and `unknownKeys` still see all).
   */
  issues: ProfileIssue[];
  /** The payloads are encrypted (EncryptedPayloadContent); see `decryptProfile`. */
  encrypted: boolean;
}

const COMMON = new Set([
  'PayloadType',
  'PayloadVersion',
  'PayloadIdentifier',
  'PayloadUUID',
  'PayloadDisplayName',
  'PayloadDescription',
  'PayloadOrganization',
]);

function isDict(v: unknown): v is PlistDict {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    !(v instanceof Date)
  );
}

/** A profile's issues: the first {@link MAX_ISSUES} are listed, the rest counted in one last issue. */
class IssueList {
  readonly listed: ProfileIssue[] = [];
  private unlisted = 0;
  add(issue: ProfileIssue): void {
    if (this.listed.length < MAX_ISSUES) this.listed.push(issue);
    else this.unlisted++;
  }
  addAll(issues: readonly ProfileIssue[]): void {
    for (const i of issues) this.add(i);
  }
  /** Counts issues found but not given one by one. */
  skip(count: number): void {
    this.unlisted += count;
  }
  done(): ProfileIssue[] {
    if (this.unlisted > 0) this.listed.push(moreIssues([], this.unlisted));
    return this.listed;
  }
}

function readPayload(raw: PlistValue, index: number, issues: IssueList): ParsedPayload | undefined {
  const base = ['PayloadContent', index];
  if (!isDict(raw)) {
    issues.add({ path: base, message: 'payload is not a dictionary' });
    return undefined;
  }
  const type = typeof raw.PayloadType === 'string' ? raw.PayloadType : '';
  const mine: ProfileIssue[] = [];
  if (!type) mine.push({ path: [...base, 'PayloadType'], message: 'missing PayloadType' });
  for (const k of ['PayloadIdentifier', 'PayloadUUID'] as const) {
    if (typeof raw[k] !== 'string')
      mine.push({ path: [...base, k], message: `missing or not a string: ${k}` });
  }
  if (raw.PayloadVersion !== 1)
    mine.push({ path: [...base, 'PayloadVersion'], message: 'PayloadVersion is not 1' });
  const def = type ? getPayloadDefinition(type) : undefined;
  let unknownKeys: string[] = [];
  let unlistedSchemaIssues = 0;
  if (type && !def) {
    mine.push({
      path: [...base, 'PayloadType'],
      message: 'payload type not in the schema release; kept raw',
    });
  }
  if (def) {
    const content: PlistDict = {};
    for (const [k, v] of Object.entries(raw)) if (!COMMON.has(k)) content[k] = v;
    const found = countedSchemaIssues(def.schema, content, base);
    for (const i of found.listed) mine.push(i);
    unlistedSchemaIssues = found.total - found.listed.length;
    const known = new Set(def.keys);
    unknownKeys = Object.keys(content).filter((k) => !known.has(k));
  }
  issues.addAll(mine);
  issues.skip(unlistedSchemaIssues);
  // Listed after the payload's other issues, so that a flood of new keys cannot hide them.
  for (const k of unknownKeys)
    issues.add({ path: [...base, k], message: 'key not in the schema release; kept' });
  return {
    index,
    payloadType: type,
    ...(typeof raw.PayloadIdentifier === 'string' ? { identifier: raw.PayloadIdentifier } : {}),
    ...(typeof raw.PayloadUUID === 'string' ? { uuid: raw.PayloadUUID } : {}),
    known: def !== undefined,
    valid: def !== undefined && mine.length === 0 && unknownKeys.length === 0,
    dict: raw,
    unknownKeys,
  };
}

/**
 * Reads an already-decoded profile dictionary leniently (see {@link parseProfile}).
 *
 * @example
 * ```ts
 * const parsed = readProfileDict(await decryptProfile(encrypted.dict, deviceKey));
 * ```
 */
export function readProfileDict(dict: PlistDict): ParsedProfile {
  const issues = new IssueList();
  const top: PlistDict = { ...dict };
  const content = dict.PayloadContent;
  const encrypted = dict.EncryptedPayloadContent instanceof Uint8Array;
  // Each payload is judged on its own below; the top-level schema sees the list's shape only.
  if (Array.isArray(content)) top.PayloadContent = [];
  else if (encrypted && content === undefined) top.PayloadContent = [];
  issues.addAll(schemaIssues(ProfileTopLevelSchema, top));
  const payloads: ParsedPayload[] = [];
  if (Array.isArray(content)) {
    if (content.length > MAX_PAYLOADS) {
      throw new ProfileError('MALFORMED_PROFILE', `profile has more than ${MAX_PAYLOADS} payloads`);
    }
    content.forEach((raw, i) => {
      const p = readPayload(raw, i, issues);
      if (p) payloads.push(p);
    });
  }
  const uuids = new Map<string, number>();
  if (typeof dict.PayloadUUID === 'string') uuids.set(dict.PayloadUUID.toUpperCase(), -1);
  for (const p of payloads) {
    if (!p.uuid) continue;
    const before = uuids.get(p.uuid.toUpperCase());
    if (before !== undefined) {
      issues.add({
        path: ['PayloadContent', p.index, 'PayloadUUID'],
        message:
          before < 0 ? 'same PayloadUUID as the profile' : `same PayloadUUID as PayloadContent.${before}`,
      });
    } else uuids.set(p.uuid.toUpperCase(), p.index);
  }
  return { dict, payloads, issues: issues.done(), encrypted };
}

/**
 * Reads an unsigned profile (XML or binary property list) leniently: payloads of unknown types and
 * keys newer than the schema release are kept raw and listed as issues with their key path; nothing
 * is thrown away. For signed profiles use `readSignedProfile`.
 *
 * @throws ProfileError `MALFORMED_PROFILE` when the bytes are not a property list within the limits,
 *   or the top level is not a dictionary.
 * @example
 * ```ts
 * const parsed = parseProfile(readFileSync('wifi.mobileconfig'));
 * for (const issue of parsed.issues) console.log(issue.path.join('.'), issue.message);
 * const scep = parsed.payloads.find((p) => p.payloadType === 'com.apple.security.scep');
 * ```
 */
export function parseProfile(
  bytes: Uint8Array,
  options: { limits?: Partial<PlistLimits> } = {},
): ParsedProfile {
  let value: PlistValue;
  try {
    value = parse(bytes, { reals: 'number', limits: { ...defaultProfileLimits, ...options.limits } });
  } catch (e) {
    throw new ProfileError('MALFORMED_PROFILE', 'profile is not a readable property list', { cause: e });
  }
  if (!isDict(value)) throw new ProfileError('MALFORMED_PROFILE', 'profile top level is not a dictionary');
  return readProfileDict(value);
}

/**
 * The payload's dictionary typed as `payloadType`, when it is of that type and conforms to its schema;
 * otherwise undefined (its raw `dict` and the profile's issues say why).
 *
 * @example
 * ```ts
 * const scep = parsed.payloads.map((p) => typedPayload(p, 'com.apple.security.scep')).find(Boolean);
 * scep?.PayloadContent.URL; // string
 * ```
 */
export function typedPayload<T extends PayloadType>(
  payload: ParsedPayload,
  payloadType: T,
): (PayloadContentOf<T> & CommonPayloadKeys) | undefined {
  return payload.valid && payload.payloadType === payloadType
    ? (payload.dict as unknown as PayloadContentOf<T> & CommonPayloadKeys)
    : undefined;
}
