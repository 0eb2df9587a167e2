import type { z } from 'zod';
import {
  type SoftwareUpdateRequiredErrorDocument,
  SoftwareUpdateRequiredErrorDocumentSchema,
  type UnrecognizedDeviceErrorDocument,
  UnrecognizedDeviceErrorDocumentSchema,
  type WatchPairingTokenMissingErrorDocument,
  WatchPairingTokenMissingErrorDocumentSchema,
  type WellKnownFailedErrorDocument,
  WellKnownFailedErrorDocumentSchema,
} from './generated/errors';
import { validate } from './validate';
import { PLIST_CONTENT_TYPE, plistBytes, type WireResponse } from './wire';

/** Body format of a 403 error document; the device reads the Content-Type header. */
export interface ErrorDocumentOptions {
  /** `json` (default) or an XML plist. */
  format?: 'json' | 'plist';
}

/** The fields of an error document other than its fixed `code`. */
export type ErrorDocumentFields<T> = Omit<T, 'code'>;

function errorDocument<T extends { code: string }>(
  schema: z.ZodType<T>,
  doc: T,
  options: ErrorDocumentOptions = {},
): WireResponse {
  const valid = validate(schema, doc, 'INVALID_MESSAGE', `${doc.code} error document`);
  if (options.format === 'plist') {
    return { status: 403, headers: { 'content-type': PLIST_CONTENT_TYPE }, body: plistBytes(valid) };
  }
  return {
    status: 403,
    headers: { 'content-type': 'application/json' },
    body: new TextEncoder().encode(JSON.stringify(valid)),
  };
}

/**
 * 403 `com.apple.unrecognized.device`: the server does not know this device. iOS 17, macOS 14 and
 * later unenroll on it; use it instead of a 401 to remove a device deliberately.
 *
 * @example
 * ```ts
 * return unrecognizedDevice({ description: 'enrollment deleted' });
 * ```
 */
export function unrecognizedDevice(
  fields: ErrorDocumentFields<UnrecognizedDeviceErrorDocument> = {},
  options?: ErrorDocumentOptions,
): WireResponse {
  return errorDocument(
    UnrecognizedDeviceErrorDocumentSchema,
    { ...fields, code: 'com.apple.unrecognized.device' },
    options,
  );
}

/**
 * 403 `com.apple.softwareupdate.required`: enrollment needs a newer OS first (`details.OSVersion`).
 *
 * @example
 * ```ts
 * return softwareUpdateRequired({ details: { OSVersion: '17.4' } });
 * ```
 */
export function softwareUpdateRequired(
  fields: ErrorDocumentFields<SoftwareUpdateRequiredErrorDocument>,
  options?: ErrorDocumentOptions,
): WireResponse {
  return errorDocument(
    SoftwareUpdateRequiredErrorDocumentSchema,
    { ...fields, code: 'com.apple.softwareupdate.required' },
    options,
  );
}

/**
 * 403 `com.apple.watch.pairing.token.missing`: the watch must fetch a pairing token first.
 *
 * @example
 * ```ts
 * return watchPairingTokenMissing({ details: { 'security-token': pairingToken } });
 * ```
 */
export function watchPairingTokenMissing(
  fields: ErrorDocumentFields<WatchPairingTokenMissingErrorDocument>,
  options?: ErrorDocumentOptions,
): WireResponse {
  return errorDocument(
    WatchPairingTokenMissingErrorDocumentSchema,
    { ...fields, code: 'com.apple.watch.pairing.token.missing' },
    options,
  );
}

/**
 * 403 `com.apple.well-known.failed`: the service discovery step of account-driven enrollment failed.
 *
 * @example
 * ```ts
 * return wellKnownFailed({ description: 'no service for this domain' });
 * ```
 */
export function wellKnownFailed(
  fields: ErrorDocumentFields<WellKnownFailedErrorDocument> = {},
  options?: ErrorDocumentOptions,
): WireResponse {
  return errorDocument(
    WellKnownFailedErrorDocumentSchema,
    { ...fields, code: 'com.apple.well-known.failed' },
    options,
  );
}
