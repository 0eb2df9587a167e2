export { ScepError, type ScepErrorCode, isMdmkitError } from './errors';
export {
  ContentType,
  DEFAULT_CAPABILITIES,
  FailInfo,
  type FailInfoName,
  MessageType,
  type MessageTypeName,
  PkiStatus,
  type PkiStatusName,
  type ScepCapability,
  ScepOid,
} from './constants';
export type { IssuedCertificateRecord, ScepStore } from './store';
export {
  anyChallenge,
  type ChallengeVerifier,
  checkKey,
  createScepPolicy,
  DEFAULT_KEY_RULES,
  type IssuanceTemplate,
  type KeyRule,
  type OneTimeChallenges,
  oneTimeChallenges,
  type PolicyDecision,
  type ScepEnrollmentRequest,
  type ScepPolicy,
  type ScepPolicyOptions,
  staticChallenge,
} from './policy';
export {
  caKeySealContext,
  type CreateLocalCaOptions,
  createLocalCa,
  type LocalCa,
  openLocalCa,
  type ScepCa,
  threadPoolSigner,
} from './ca';
export {
  createScepServer,
  type ScepHttpRequest,
  type ScepHttpResponse,
  type ScepServer,
  type ScepServerEvent,
  type ScepServerOptions,
} from './server';
export { type NodeListenerOptions, scepHandler, toFetchHandler, toNodeListener } from './node';
export { type FileDepot, type FileDepotOptions, openFileDepot } from './depot';
export {
  type BuildPkiMessageOptions,
  buildPkiMessage,
  type ScepCaCertificates,
  ScepClient,
  type ScepClientOptions,
  type ScepEnrollOptions,
  type ScepEnrollResult,
} from './client';
export {
  main,
  parseListen,
  parseServeArgs,
  type RunningScepServer,
  type ServeConfig,
  serve,
  PROGRAM_USAGE,
  USAGE,
} from './cli';
