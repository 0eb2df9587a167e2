import type { PlistDict } from '@mdmkit/plist';
import { z } from 'zod';
import { parseBody } from './body';
import { type ResolvedEnrollment, resolveEnrollmentId } from './enrollment-id';
import { ProtocolError } from './errors';
import { type IdentityBlock, identityShape } from './identity';
import { validate } from './validate';

/** Status of a device's answer on the command channel. */
export type ReportStatus = 'Acknowledged' | 'Error' | 'CommandFormatError' | 'Idle' | 'NotNow';

/** One link of an error chain, innermost cause last. */
export interface ErrorChainItem {
  ErrorCode: number;
  ErrorDomain: string;
  LocalizedDescription?: string;
  USEnglishDescription?: string;
}

/** The keys every report carries, whatever the command: status, command id, errors, identity. */
export interface ReportEnvelope extends IdentityBlock {
  Status: ReportStatus;
  /** Absent only when `Status` is `Idle`. */
  CommandUUID?: string;
  ErrorChain?: ErrorChainItem[];
}

export const ErrorChainItemSchema: z.ZodType<ErrorChainItem> = z.looseObject({
  ErrorCode: z.number(),
  ErrorDomain: z.string(),
  LocalizedDescription: z.string().optional(),
  USEnglishDescription: z.string().optional(),
});

export const ReportEnvelopeSchema: z.ZodType<ReportEnvelope> = z.looseObject({
  ...identityShape,
  Status: z.enum(['Acknowledged', 'Error', 'CommandFormatError', 'Idle', 'NotNow']),
  CommandUUID: z.string().optional(),
  ErrorChain: z.array(ErrorChainItemSchema).optional(),
});

/** A decoded report: the validated envelope plus the whole dictionary as received. */
export interface DecodedReport {
  envelope: ReportEnvelope;
  enrollment: ResolvedEnrollment;
  /** Every key of the report, including the command-specific response keys. */
  payload: PlistDict;
}

/**
 * Decodes a report (the body a device sends to the server URL): the envelope is validated and typed,
 * the command-specific keys stay in `payload` (see `decodeReportFor` in @mdmkit/commands for typed
 * responses).
 *
 * @throws ProtocolError `INVALID_PLIST`, `INVALID_MESSAGE` (with key path) or `MISSING_IDENTITY`.
 * @example
 * ```ts
 * const report = decodeReport(body);
 * if (report.envelope.Status === 'Idle') return commandResponse(await queue.next(report.enrollment.id));
 * if (report.envelope.Status === 'Error') log(report.envelope.ErrorChain?.[0]?.ErrorDomain);
 * ```
 */
export function decodeReport(body: Uint8Array | string): DecodedReport {
  return decodeReportDict(parseBody(body, 'report'));
}

/** {@link decodeReport} for a dictionary that is already parsed. */
export function decodeReportDict(payload: PlistDict): DecodedReport {
  const envelope = validate(ReportEnvelopeSchema, payload, 'INVALID_MESSAGE', 'report');
  if (envelope.Status !== 'Idle' && !envelope.CommandUUID) {
    throw new ProtocolError(
      'INVALID_MESSAGE',
      `report: CommandUUID: required when Status is ${envelope.Status}`,
      {
        keyPath: ['CommandUUID'],
        issues: [{ path: ['CommandUUID'], message: 'required' }],
      },
    );
  }
  return { envelope, enrollment: resolveEnrollmentId(envelope), payload };
}
