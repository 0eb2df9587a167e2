import type { z } from 'zod';
import { addIssue, conforms, type IssueBudget } from './capped-issues';
import type { DeclarativeIssue } from './errors';
import { DeclarativeError } from './errors';
import { StatusReportSchema, type StatusReport as StatusReportDocument } from './generated/protocol';
import { type StatusItemName, type StatusItemValues, statusItemDefinitions } from './generated/status-items';

/** Limits of {@link parseStatusReport}. */
export interface StatusReportLimits {
  /** Largest body accepted, in bytes. Default 4 MiB. */
  maxBytes?: number;
  /** Most status items (known and unknown) kept from one report. Default 10,000. */
  maxItems?: number;
  /** Most entries in the report's `Errors` array. Default 10,000. */
  maxErrors?: number;
  /** Most issues listed; past it they are only counted in `issuesOmitted`. Default 100. */
  maxIssues?: number;
  /**
   * Deepest nesting of objects and arrays, the document itself counting as 1. Default 64. Checked
   * before parsing, so whatever is kept can be stored with `JSON.stringify` without overflowing the stack.
   */
  maxDepth?: number;
}

export const DEFAULT_STATUS_LIMITS: Required<StatusReportLimits> = {
  maxBytes: 4 * 1024 * 1024,
  maxItems: 10_000,
  maxErrors: 10_000,
  maxIssues: 100,
  maxDepth: 64,
};

/** An entry of an array status item that an incremental report marks as gone. */
export interface RemovedStatusEntry {
  /** The entry's `identifier` as sent (a string for every array item of the schema release). */
  identifier: unknown;
  [key: string]: unknown;
}

/** A status item the device could not report, with its reasons (the report's `Errors`). */
export type StatusItemError = StatusReportDocument['Errors'][number];

/**
 * A status report as parsed: every item the device sent is kept. Items that conform are typed in
 * `items`; items that do not are kept as sent in `nonConforming`, with their problems in `issues`;
 * items no schema names are kept in `unknownItems`.
 */
export interface ParsedStatusReport {
  /** Known items whose value conforms, by dotted name (`softwareupdate.install-state`). */
  items: Partial<StatusItemValues>;
  /** For array items: entries marked `_removed: true` in an incremental report, by item name. */
  removed: Partial<Record<StatusItemName, RemovedStatusEntry[]>>;
  /** Known items whose value does not match the schema, as sent. */
  nonConforming: Partial<Record<StatusItemName, unknown>>;
  /** Items no schema of the release names, by dotted name, as sent. */
  unknownItems: Record<string, unknown>;
  /** Status items the device could not report: the `Errors` entries that conform. */
  errors: StatusItemError[];
  /** `Errors` entries that do not conform, as sent (which item failed may still be in them). */
  nonConformingErrors: unknown[];
  /** True when the device says this is its whole status rather than the changes since the last report. */
  fullReport: boolean;
  /** The problems found, with the key path from the document root: the first `maxIssues` of them. */
  issues: DeclarativeIssue[];
  /** How many more problems were found than `issues` lists (at least; a part past the limit counts once). */
  issuesOmitted: number;
}

const knownNames = new Set<string>(Object.keys(statusItemDefinitions));
/** Every dotted prefix of a known name (`device`, `device.operating-system`): where to look deeper. */
const namespaces = new Set<string>();
for (const name of knownNames) {
  const parts = name.split('.');
  for (let i = 1; i < parts.length; i++) namespaces.add(parts.slice(0, i).join('.'));
}

const ErrorEntrySchema = (StatusReportSchema as unknown as z.ZodObject).shape.Errors as unknown as z.ZodArray;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Throws unless `text`'s objects and arrays nest at most `maxDepth` deep; brackets in strings do not count. */
function checkDepth(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // A backslash escapes the character after it.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) {
        throw new DeclarativeError('LIMIT_EXCEEDED', `status report: nested deeper than ${maxDepth} levels`);
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

function decodeBody(body: Uint8Array | string, maxBytes: number, maxDepth: number): unknown {
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
  if (size > maxBytes) {
    throw new DeclarativeError('LIMIT_EXCEEDED', `status report: ${size} bytes, more than ${maxBytes}`);
  }
  let text: string;
  try {
    text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (cause) {
    throw new DeclarativeError('INVALID_STATUS_REPORT', 'status report: not UTF-8', { cause });
  }
  checkDepth(text, maxDepth);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new DeclarativeError('INVALID_STATUS_REPORT', 'status report: not JSON', { cause });
  }
}

/**
 * Parses the body a device sends to the DDM `status` endpoint (the check-in's `Data`). Lenient: an
 * unknown item, an unknown enum value or a value of the wrong type is kept and listed, never fatal.
 * Only a body that is not a JSON object, or that breaks the limits, is refused.
 * @throws DeclarativeError `INVALID_STATUS_REPORT` (not UTF-8 JSON, or not an object) or `LIMIT_EXCEEDED`.
 * @example
 * ```ts
 * const report = parseStatusReport(message.Data!);
 * report.items['softwareupdate.install-state']; // 'downloading'
 * report.items['device.operating-system.version']; // '17.5.1'
 * report.issues; // [] when everything conformed
 * ```
 */
export function parseStatusReport(
  body: Uint8Array | string,
  limits: StatusReportLimits = {},
): ParsedStatusReport {
  const max = { ...DEFAULT_STATUS_LIMITS, ...limits };
  const doc = decodeBody(body, max.maxBytes, max.maxDepth);
  if (!isPlainObject(doc))
    throw new DeclarativeError('INVALID_STATUS_REPORT', 'status report: not a JSON object');
  const out: ParsedStatusReport = {
    items: {},
    removed: {},
    nonConforming: {},
    // No prototype: an item named `__proto__` stays an ordinary entry.
    unknownItems: Object.create(null) as Record<string, unknown>,
    errors: [],
    nonConformingErrors: [],
    fullReport: doc.FullReport === true,
    issues: [],
    issuesOmitted: 0,
  };
  const budget: IssueBudget = { issues: out.issues, max: max.maxIssues, omitted: 0 };
  if (doc.FullReport !== undefined && typeof doc.FullReport !== 'boolean') {
    addIssue(budget, { path: ['FullReport'], message: 'expected boolean' });
  }
  let count = 0;
  const countItem = () => {
    if (++count > max.maxItems) {
      throw new DeclarativeError('LIMIT_EXCEEDED', `status report: more than ${max.maxItems} status items`);
    }
  };
  const walk = (node: Record<string, unknown>, prefix: string[]) => {
    for (const key of Object.keys(node)) {
      const value = node[key];
      const parts = [...prefix, key];
      const name = parts.join('.');
      if (knownNames.has(name)) {
        countItem();
        readItem(name as StatusItemName, value, ['StatusItems', ...parts], out, budget);
      } else if (namespaces.has(name) && isPlainObject(value)) {
        walk(value, parts);
      } else {
        countItem();
        out.unknownItems[name] = value;
      }
    }
  };
  if (isPlainObject(doc.StatusItems)) walk(doc.StatusItems, []);
  else {
    const message = doc.StatusItems === undefined ? 'missing' : 'expected object';
    addIssue(budget, { path: ['StatusItems'], message });
  }
  readErrors(doc.Errors, max.maxErrors, out, budget);
  out.issuesOmitted = budget.omitted;
  return out;
}

function readItem(
  name: StatusItemName,
  value: unknown,
  path: (string | number)[],
  out: ParsedStatusReport,
  budget: IssueBudget,
): void {
  const def = statusItemDefinitions[name];
  let checked = value;
  if (def.array && Array.isArray(value)) {
    const removed = value.filter((e) => isPlainObject(e) && e._removed === true) as RemovedStatusEntry[];
    if (removed.length) {
      (out.removed as Record<string, RemovedStatusEntry[]>)[name] = removed;
      checked = value.filter((e) => !(isPlainObject(e) && e._removed === true));
    }
  }
  if (conforms(def.schema as z.ZodType, checked, path, budget))
    (out.items as Record<string, unknown>)[name] = checked;
  else (out.nonConforming as Record<string, unknown>)[name] = value;
}

function readErrors(errors: unknown, maxErrors: number, out: ParsedStatusReport, budget: IssueBudget): void {
  if (errors === undefined) return;
  if (!Array.isArray(errors)) {
    addIssue(budget, { path: ['Errors'], message: 'expected array' });
    return;
  }
  if (errors.length > maxErrors) {
    throw new DeclarativeError('LIMIT_EXCEEDED', `status report: more than ${maxErrors} errors`);
  }
  const entry = ErrorEntrySchema.element as z.ZodType;
  errors.forEach((e, i) => {
    // Kept even when it does not conform (which item failed is what the server needs to know), but
    // apart, so that the typed list holds only what its type says.
    if (conforms(entry, e, ['Errors', i], budget)) out.errors.push(e as StatusItemError);
    else out.nonConformingErrors.push(e);
  });
}
