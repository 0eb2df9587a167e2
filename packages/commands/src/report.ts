import { type DecodedReport, decodeReportDict, ProtocolError, parseBody, validate } from '@mdmkit/protocol';
import type { PlistDict } from '@mdmkit/plist';
import { getCommand, type ResponseOf } from './lookup';
import type { RequestType } from './generated/registry';

/** A report with its command-specific keys validated against the command's response schema. */
export interface TypedReport<R extends RequestType> extends DecodedReport {
  requestType: R;
  /**
   * The validated response keys; present when `Status` is `Acknowledged` and the command has
   * response keys (`undefined` for commands answered with the bare report).
   */
  response?: ResponseOf<R>;
}

/**
 * Decodes the report of a command whose RequestType the server knows (it queued the command):
 * protocol's envelope plus the typed, validated response.
 *
 * @throws ProtocolError `INVALID_MESSAGE` with the key path (e.g. `['QueryResponses', 'OSVersion']`),
 * `UNKNOWN_COMMAND` for a RequestType no schema describes (use `decodeReport`).
 * @example
 * ```ts
 * const report = decodeReportFor('DeviceInformation', body);
 * if (report.response) console.log(report.response.QueryResponses.OSVersion);
 * ```
 */
export function decodeReportFor<R extends RequestType>(
  requestType: R,
  body: Uint8Array | string,
): TypedReport<R> {
  return decodeReportDictFor(requestType, parseBody(body, `${requestType} report`));
}

/** {@link decodeReportFor} for a dictionary that is already parsed. */
export function decodeReportDictFor<R extends RequestType>(requestType: R, dict: PlistDict): TypedReport<R> {
  const def = getCommand(requestType as string);
  if (!def) {
    throw new ProtocolError('UNKNOWN_COMMAND', `no schema for RequestType ${requestType}; use decodeReport`);
  }
  const report: DecodedReport = decodeReportDict(dict);
  const out: TypedReport<R> = {
    envelope: report.envelope,
    enrollment: report.enrollment,
    payload: report.payload,
    requestType,
  };
  if (report.envelope.Status === 'Acknowledged' && def.response) {
    out.response = validate(def.response, dict, 'INVALID_MESSAGE', `${requestType} report`) as ResponseOf<R>;
  }
  return out;
}
