import { DECLARATION_KINDS, type Declaration, type DeclarationKind } from './define';
import type { DeclarationSet } from './declaration-set';
import { DeclarativeError } from './errors';
import type { DeclarationItemsResponse, TokensResponse } from './generated/protocol';
import { type ParsedStatusReport, parseStatusReport, type StatusReportLimits } from './status-report';

/**
 * The part of a `DeclarativeManagement` check-in message this package needs. `@mdmkit/protocol`'s
 * `DeclarativeManagementMessage` has this shape.
 */
export interface DeclarativeRequest {
  /** `tokens`, `declaration-items`, `status` or `declaration/<kind>/<identifier>`. */
  Endpoint: string;
  /** The JSON body of a `status` request. */
  Data?: Uint8Array;
}

/** Longest `Endpoint` accepted: the longest valid one is `declaration/configuration/` + 64 bytes. */
export const MAX_ENDPOINT_LENGTH = 256;

const JSON_TYPE = 'application/json';
const EMPTY = new Uint8Array(0);

/** What to answer a `DeclarativeManagement` check-in with. `body` is what goes on the wire. */
export type DeclarativeAnswer =
  | {
      endpoint: 'tokens';
      status: 200;
      contentType: typeof JSON_TYPE;
      body: Uint8Array;
      document: TokensResponse;
    }
  | {
      endpoint: 'declaration-items';
      status: 200;
      contentType: typeof JSON_TYPE;
      body: Uint8Array;
      document: DeclarationItemsResponse;
    }
  | {
      endpoint: 'declaration';
      status: 200;
      contentType: typeof JSON_TYPE;
      body: Uint8Array;
      document: Declaration;
    }
  /** The set holds no declaration of that kind and identifier (it was removed, or never existed). */
  | { endpoint: 'declaration'; status: 404; body: Uint8Array; kind: DeclarationKind; identifier: string }
  /** Store `report`, then answer with an empty 200. */
  | { endpoint: 'status'; status: 200; body: Uint8Array; report: ParsedStatusReport };

/** Options of {@link answerDeclarativeRequest}. */
export interface DeclarativeAnswerOptions {
  /** Limits for a `status` body. */
  statusLimits?: StatusReportLimits;
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/**
 * Answers one `DeclarativeManagement` check-in from a declaration set: the pure core of the DDM
 * conversation. `tokens`, `declaration-items` and `declaration/<kind>/<identifier>` are answered from
 * the set; a `status` body is parsed for the caller to store. Nothing here keeps state.
 * @throws DeclarativeError `UNKNOWN_ENDPOINT` for an endpoint the protocol does not define (answer 400),
 * `INVALID_STATUS_REPORT` or `LIMIT_EXCEEDED` for a status body that cannot be read (answer 400).
 * @example
 * ```ts
 * const message = decodeCheckin(body); // @mdmkit/protocol
 * if (message.MessageType === 'DeclarativeManagement') {
 *   const answer = answerDeclarativeRequest(setForDevice, message);
 *   if (answer.endpoint === 'status') await store(answer.report);
 *   respond(answer.status, answer.body);
 * }
 * ```
 */
export function answerDeclarativeRequest(
  set: DeclarationSet,
  request: DeclarativeRequest,
  options: DeclarativeAnswerOptions = {},
): DeclarativeAnswer {
  const endpoint = request.Endpoint;
  if (typeof endpoint !== 'string' || endpoint.length > MAX_ENDPOINT_LENGTH) {
    throw new DeclarativeError('UNKNOWN_ENDPOINT', 'Endpoint: missing or too long');
  }
  switch (endpoint) {
    case 'tokens': {
      const document = set.tokens();
      return { endpoint, status: 200, contentType: JSON_TYPE, body: json(document), document };
    }
    case 'declaration-items': {
      const document = set.declarationItems();
      return { endpoint, status: 200, contentType: JSON_TYPE, body: json(document), document };
    }
    case 'status': {
      if (!(request.Data instanceof Uint8Array)) {
        throw new DeclarativeError('INVALID_STATUS_REPORT', 'status: the check-in carries no Data');
      }
      return {
        endpoint,
        status: 200,
        body: EMPTY,
        report: parseStatusReport(request.Data, options.statusLimits),
      };
    }
  }
  const m = /^declaration\/([a-z]+)\/(.+)$/s.exec(endpoint);
  const kind = m?.[1] as DeclarationKind | undefined;
  if (!m || !kind || !DECLARATION_KINDS.includes(kind)) {
    // Never echo the endpoint: it is device input and may be anything.
    throw new DeclarativeError('UNKNOWN_ENDPOINT', 'Endpoint: not one the DDM protocol defines');
  }
  const identifier = m[2]!;
  const document = set.get(kind, identifier);
  if (!document) return { endpoint: 'declaration', status: 404, body: EMPTY, kind, identifier };
  return { endpoint: 'declaration', status: 200, contentType: JSON_TYPE, body: json(document), document };
}
