export { DepError, type DepErrorCode, isDepError, isMdmkitError } from './errors';
export {
  createTokenKeyPair,
  type DepToken,
  decryptServerToken,
  parseTokenMessage,
  type TokenExpiryReport,
  type TokenKeyPair,
  type TokenKeyPairOptions,
  tokenExpiry,
} from './token';
export { type Clock, systemClock } from './clock';
export { backoffDelay, DEFAULT_RETRY, parseRetryAfter, type RetryPolicy } from './retry';
export {
  appleErrorWord,
  DEFAULT_DEP_BASE_URL,
  DEP_PROTOCOL_VERSION,
  DepClient,
  type DepClientOptions,
  MAX_DEVICE_LIMIT,
} from './client';
export type {
  AccountDrivenProfile,
  ActivationLockRequest,
  ActivationLockResponse,
  AssignProfileResponse,
  BetaEnrollmentTokens,
  DefineProfileResponse,
  DepAccount,
  DepDevice,
  DeviceDetailsResponse,
  DeviceListResponse,
  DisownResponse,
  EnrollmentProfile,
  RemoveProfileResponse,
} from './schemas';
export { type ConnectDepTokenOptions, connectDepToken, DEP_TOKEN_SECRET_KIND, openDepToken } from './tokens';
export { toDeviceInput } from './devices';
export {
  depLeaseName,
  type DepSyncEvent,
  DepSyncer,
  type DepSyncerOptions,
  type DepAssignReport,
  type DepSyncReport,
} from './syncer';
