export { ApnsError, type ApnsErrorCode, isMdmkitError } from './errors';
export { APNS_HOSTS, type ApnsEnvironment, apnsOrigin } from './endpoints';
export type {
  LocalFailureReason,
  MdmPush,
  PushDelivered,
  PushFailed,
  PushResult,
  RetryOptions,
} from './types';
export { isTransientStatus, UNREACHABLE_REASONS } from './reasons';
export type { ConnectFunction } from './connection';
export {
  ApnsClient,
  type ApnsClientOptions,
  type PushManyOptions,
  type PushSummary,
} from './client';
export {
  type PemPushCredentials,
  type Pkcs12PushCredentials,
  type PushCredentials,
  resolveCredentials,
  type ResolvedCredentials,
} from './credentials';
export {
  createPushCertificateRequest,
  type DecodedPushCertificateRequest,
  decodePushCertificateRequest,
  generatePushCsr,
  type PushCertificateRequestOptions,
  type PushCsr,
} from './certificate-request';
export {
  type InstalledPushCertificate,
  type InstallPushCertificateOptions,
  installPushCertificate,
  type PushCertWriter,
  type StoredPushCertRecord,
} from './renewal';
export {
  assertCertificateCurrent,
  certificateMatchesKey,
  describePushCertificate,
  MDM_TOPIC_PREFIX,
  type ParsePushCertificateOptions,
  type PushCertificateInfo,
  parsePushCertificate,
} from './push-certificate';
export {
  PUSH_KEY_SECRET_KIND,
  type PushCertReader,
  type PushCertStoreSource,
} from './store-source';
