import type { PlistDict } from '@mdmkit/plist';
import { type DecodedReport, decodeReportDict, type ProtocolIssue } from '@mdmkit/protocol';
import { collectIssues, ISSUE_LIMIT, type IssueList, parseBody } from '@mdmkit/protocol/schema';
import { asCommandError, CommandError } from './errors';
import type { RequestType } from './generated/registry';
import { getCommand, type ResponseOf } from './lookup';

/**
 * A report with its command-specific keys checked against the command's response schema. Nothing
 * the device sent is dropped: `payload` is the whole dictionary, `response` is present only when
 * it matches the schema, and `issues` says where it does not.
 */
export interface TypedReport<R extends RequestType> extends DecodedReport {
  requestType: R;
  /**
   * The response keys, typed; present when `Status` is `Acknowledged`, the command has response
   * keys, and they match the schema. When they do not, `response` is absent, `responseIssues`
   * lists why, and the keys are in `payload` as sent.
   */
  response?: ResponseOf<R>;
  /**
   * Where the response keys differ from the schema (key path, expected, got); also in `issues`.
   * At most the first 100; `omittedResponseIssues` counts the rest.
   */
  responseIssues: ProtocolIssue[];
  /** How many further response issues were found but not listed in `responseIssues`. */
  omittedResponseIssues: number;
}

/**
 * Decodes the report of a command whose RequestType the server knows (it queued the command):
 * protocol's envelope plus the typed response. A response that does not match the schema (a value
 * from a newer OS, a number out of range, a string where a number was expected) is never an error:
 * the report comes back with `response` absent, the dictionary in `payload` and the problems in
 * `responseIssues`, so the CommandUUID and Status are never lost.
 *
 * @throws CommandError `UNKNOWN_COMMAND` for a RequestType no schema describes (use `decodeReport`);
 * `INVALID_PLIST`, `INVALID_MESSAGE` or `MISSING_IDENTITY` when the envelope itself is unusable.
 * @example
 * ```ts
 * const report = decodeReportFor('DeviceInformation', body);
 * if (report.response) console.log(report.response.QueryResponses.OSVersion);
 * else if (report.responseIssues.length) log.warn('kept as sent', report.responseIssues);
 * ```
 */
export function decodeReportFor<R extends RequestType>(
  requestType: R,
  body: Uint8Array | string,
): TypedReport<R> {
  const dict = asCommandError(() => parseBody(body, `${requestType} report`));
  return decodeReportDictFor(requestType, dict);
}

/**
 * {@link decodeReportFor} for a dictionary that is already parsed, with reals as plain numbers
 * (parse with `reals: 'number'`, as `decodeReportFor` does; a `PlistReal` is not a number to the
 * response schema).
 *
 * @example
 * ```ts
 * const report = decodeReportDictFor('ProfileList', parse(body, { reals: 'number' }) as PlistDict);
 * ```
 */
export function decodeReportDictFor<R extends RequestType>(requestType: R, dict: PlistDict): TypedReport<R> {
  const def = getCommand(requestType as string);
  if (!def) {
    throw new CommandError('UNKNOWN_COMMAND', `no schema for RequestType ${requestType}; use decodeReport`);
  }
  const report = asCommandError(() => decodeReportDict(dict));
  const out: TypedReport<R> = { ...report, requestType, responseIssues: [], omittedResponseIssues: 0 };
  if (report.envelope.Status === 'Acknowledged' && def.response) {
    const found: IssueList = { issues: [], omitted: 0 };
    collectIssues(def.response, dict, [], found);
    if (found.issues.length === 0) out.response = dict as ResponseOf<R>;
    else {
      out.responseIssues = found.issues;
      out.omittedResponseIssues = found.omitted;
      const all = [...report.issues, ...found.issues];
      out.issues = all.slice(0, ISSUE_LIMIT);
      out.omittedIssues = report.omittedIssues + found.omitted + all.length - out.issues.length;
    }
  }
  return out;
}
