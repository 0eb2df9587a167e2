export {
  type DecodedCheckin,
  decodeCheckin,
  decodeCheckinDict,
  type CheckinMessages,
  type KnownCheckin,
  type UnknownCheckin,
} from './checkin';
export {
  type BuildOptions,
  type Command,
  commandResponse,
  decodeCommand,
  encodeCommand,
  rawCommand,
} from './command';
export {
  type EnrollmentType,
  type ResolvedEnrollment,
  resolveEnrollmentId,
  SHARED_IPAD_USER_ID,
} from './enrollment-id';
export {
  type ErrorDocumentFields,
  type ErrorDocumentOptions,
  softwareUpdateRequired,
  unrecognizedDevice,
  watchPairingTokenMissing,
  wellKnownFailed,
} from './error-documents';
export { isMdmkitError, ProtocolError, type ProtocolErrorCode, type ProtocolIssue } from './errors';
export * from './generated/checkin';
export * from './generated/errors';
export type { IdentityBlock } from './identity';
export {
  type DecodedReport,
  decodeReport,
  decodeReportDict,
  type ErrorChainItem,
  type ReportEnvelope,
  type ReportStatus,
} from './report';
export {
  declarativeManagementResponse,
  declineUserChannel,
  getBootstrapTokenResponse,
  getTokenResponse,
  unauthorizedResponse,
  userAuthenticateChallenge,
  userAuthenticateToken,
} from './responses';
export type { OsName, OsSupport, Support, SupportMode } from './support';
export { emptyResponse, plistBytes, plistResponse, type WireResponse } from './wire';
export {
  type DeviceIdentity,
  type DeviceIdentityOptions,
  deviceIdentity,
  type IdentityRequest,
  type IdentitySource,
  identityFromEscapedPemHeader,
  identityFromMdmSignature,
  identityFromPeerCertificate,
  identityFromRfc9440Header,
  type PeerCertificateInput,
} from './device-identity';
