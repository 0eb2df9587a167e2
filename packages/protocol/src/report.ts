import type { PlistDict } from '@mdmkit/plist';
import { z } from 'zod';
import { isPlistDict, parseBody } from './body';
import { type ResolvedEnrollment, resolveEnrollmentId } from './enrollment-id';
import type { ProtocolIssue } from './errors';
import { type IdentityBlock, identityShape } from './identity';
import {
  addIssue,
  collectIssues,
  describeValue,
  ISSUE_LIMIT,
  type IssueList,
  throwIssues,
  validate,
} from './validate';

/** Status of a device's answer on the command channel. */
export type ReportStatus = 'Acknowledged' | 'Error' | 'CommandFormatError' | 'Idle' | 'NotNow';

/**
 * One link of an error chain, innermost cause last, as the device sent it. Apple lists `ErrorCode`
 * and `ErrorDomain` in every item; an item that lacks one (or carries another type) is still kept,
 * and the gap is listed in the report's `issues`.
 */
export interface ErrorChainItem {
  ErrorCode?: number;
  ErrorDomain?: string;
  LocalizedDescription?: string;
  USEnglishDescription?: string;
}

/** The keys every report carries, whatever the command: status, command id, errors, identity. */
export interface ReportEnvelope extends IdentityBlock {
  Status: ReportStatus;
  /** Absent only when `Status` is `Idle`. */
  CommandUUID?: string;
  /** The error chain as sent (present when the device sent an array). */
  ErrorChain?: ErrorChainItem[];
}

/** What Apple documents for one error-chain item; reports are checked against it, never refused. */
export const ErrorChainItemSchema: z.ZodType<Required<Pick<ErrorChainItem, 'ErrorCode' | 'ErrorDomain'>>> =
  z.looseObject({
    ErrorCode: z.number(),
    ErrorDomain: z.string(),
    LocalizedDescription: z.string().optional(),
    USEnglishDescription: z.string().optional(),
  });

/**
 * The part of a report without which it cannot be attributed: who (the keys that decide the
 * enrollment id), which command, which status. `UserLongName` and `NotOnConsole` are checked too,
 * but a wrong type there is an issue, never a lost report.
 */
export const ReportEnvelopeSchema = z.looseObject({
  UDID: identityShape.UDID,
  EnrollmentID: identityShape.EnrollmentID,
  EnrollmentUserID: identityShape.EnrollmentUserID,
  UserID: identityShape.UserID,
  UserShortName: identityShape.UserShortName,
  Status: z.enum(['Acknowledged', 'Error', 'CommandFormatError', 'Idle', 'NotNow']),
  CommandUUID: z.string().optional(),
});

/**
 * A decoded report: the envelope, the enrollment, the whole dictionary as received, and the list of
 * places where the report does not match Apple's schema. A report is never refused for what lies
 * outside its envelope.
 */
export interface DecodedReport {
  envelope: ReportEnvelope;
  enrollment: ResolvedEnrollment;
  /** Every key of the report exactly as received, including the command-specific response keys. */
  payload: PlistDict;
  /**
   * Places where the report differs from Apple's schema (key path, expected, got), e.g. an
   * `ErrorChain` item without `ErrorDomain`. Empty for a report that matches. At most the first
   * 100 are listed; `omittedIssues` counts the rest.
   */
  issues: ProtocolIssue[];
  /** How many further issues were found but not listed in `issues` (0 for most reports). */
  omittedIssues: number;
}

/**
 * Decodes a report (the body a device sends to the server URL). The envelope — identity,
 * `CommandUUID`, `Status` — must be well-formed, or the report cannot be attributed and a
 * {@link ProtocolError} is thrown. Everything else is kept as sent: an `ErrorChain` that does not
 * match Apple's schema is still in `envelope.ErrorChain` (when it is an array) with its problems in
 * `issues`, and the command-specific keys stay in `payload` (see `decodeReportFor` in
 * @mdmkit/commands for typed responses).
 *
 * @throws ProtocolError `INVALID_PLIST`, `INVALID_MESSAGE` (an envelope key missing or of the wrong
 * type, with its key path) or `MISSING_IDENTITY`.
 * @example
 * ```ts
 * const report = decodeReport(body);
 * await results.store(report.enrollment.id, report.envelope.CommandUUID, report.payload);
 * if (report.issues.length) log.warn('report differs from the schema', report.issues);
 * if (report.envelope.Status === 'Error') log(report.envelope.ErrorChain?.[0]?.ErrorDomain);
 * ```
 */
export function decodeReport(body: Uint8Array | string): DecodedReport {
  return decodeReportDict(parseBody(body, 'report'));
}

/**
 * {@link decodeReport} for a dictionary that is already parsed, with reals as plain numbers (parse
 * with `reals: 'number'`, as `decodeReport` does; a `PlistReal` is not a number to the schemas).
 *
 * @example
 * ```ts
 * const report = decodeReportDict(parse(body, { reals: 'number' }) as PlistDict);
 * ```
 */
export function decodeReportDict(payload: PlistDict): DecodedReport {
  const envelope = validate(ReportEnvelopeSchema, payload, 'INVALID_MESSAGE', 'report') as ReportEnvelope;
  if (envelope.Status !== 'Idle' && !envelope.CommandUUID) {
    throwIssues('INVALID_MESSAGE', 'report', [
      {
        path: ['CommandUUID'],
        expected: `non-empty string when Status is ${envelope.Status}`,
        got: describeValue(payload.CommandUUID),
        message: `required when Status is ${envelope.Status}`,
      },
    ]);
  }
  const enrollment = resolveEnrollmentId(envelope);
  const found: IssueList = { issues: [], omitted: 0 };
  // Keys of another type than Apple's stay in `payload` only, so the envelope's type holds.
  const dropped: string[] = [];
  for (const key of ['UserLongName', 'NotOnConsole'] as const) {
    const before = found.issues.length + found.omitted;
    collectIssues(identityShape[key], payload[key], [key], found);
    if (found.issues.length + found.omitted > before) dropped.push(key);
  }
  errorChainIssues(payload.ErrorChain, found);
  if (payload.ErrorChain !== undefined && !Array.isArray(payload.ErrorChain)) dropped.push('ErrorChain');
  const kept = dropped.length
    ? (Object.fromEntries(Object.entries(envelope).filter(([k]) => !dropped.includes(k))) as ReportEnvelope)
    : envelope;
  return { envelope: kept, enrollment, payload, issues: found.issues, omittedIssues: found.omitted };
}

function errorChainIssues(chain: unknown, found: IssueList): void {
  if (chain === undefined) return;
  if (!Array.isArray(chain)) {
    addIssue(found, {
      path: ['ErrorChain'],
      expected: 'array',
      got: describeValue(chain),
      message: 'expected an array',
    });
    return;
  }
  for (let i = 0; i < chain.length; i++) {
    const item = chain[i];
    if (!isPlistDict(item)) {
      if (found.issues.length >= ISSUE_LIMIT) found.omitted++;
      else
        addIssue(found, {
          path: ['ErrorChain', i],
          expected: 'dictionary',
          got: describeValue(item),
          message: 'expected a dictionary',
        });
    } else collectIssues(ErrorChainItemSchema, item, ['ErrorChain', i], found);
  }
}
