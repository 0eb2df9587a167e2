export { isMdmkitError, ReferenceServerError, type ReferenceServerErrorCode } from './errors';
export {
  type ConfigResult,
  loadConfig,
  type LogLevel,
  type ServerConfig,
  SETTINGS,
  type StorageConfig,
  type TlsConfig,
  USAGE,
} from './config';
export { type CliIo, main } from './cli';
export { createJsonLogger, type LogFields, type Logger } from './logger';
export { type Counter, DURATION_BUCKETS, type Histogram, type Labels, MetricsRegistry } from './metrics';
export { createServerMetrics, observeMdmEvents, type ServerMetrics } from './observe';
export { allows, isRole, type Permission, ROLES, type Role } from './roles';
export {
  ADMIN_API_ROUTES,
  OPERATION_ROUTES,
  type OperationRouteName,
  permissionOf,
  ROUTE_TABLE,
  type RouteSpec,
  SERVER_ROUTES,
  type ServerRouteName,
} from './routes';
export { type OperationsContext, operationsHandlers } from './operations-api';
export { AccessControl, type Principal, type TokenRecord, tokenFrom, type UserRecord } from './access';
export { errorResponse, json, MAX_API_BODY_BYTES, readJsonObject } from './api-io';
export { type AppOptions, createApp, type MountedRoute, type RouteContext } from './app';
export { type AdminApiContext, adminApiHandlers } from './admin-api';
export { type Identity, loadProfileSigner, loadScepCa, loadSelfSignedTls } from './identities';
export { type JobRunner, type LeasedJob, startLeasedJobs } from './jobs';
export { pushRetryJob } from './push-retry';
export { openStorage } from './open-storage';
export { hasServerStores, SERVER_OWNER, type ServerStorage } from './stores';
export { TopicSource } from './topic';
export { type RunningReferenceServer, type StartOptions, startReferenceServer } from './server';
