export { isMdmkitError, ServerError, type ServerErrorCode } from './errors';
export type { MdmEvent, MdmEventListener } from './events';
export {
  type AssociateOptions,
  associateCertificate,
  blockList,
  type ChainLink,
  composeChain,
  decodeMessage,
  type DeviceMessage,
  extractIdentity,
  type MdmRequest,
  type MdmService,
  type VerifyChainOptions,
  verifyIdentityChain,
} from './chain';
export { BOOTSTRAP_TOKEN_SECRET_KIND, type CoreOptions, type CoreStorage, createCore } from './core';
export type { EnrollmentProfileConfig } from './enroll';
export { type ApnsPusherOptions, apnsPusher, type PushReport, type Pusher } from './push';
export { createMdmServer, type EnqueueOptions, type MdmServer, type MdmServerOptions } from './server';
