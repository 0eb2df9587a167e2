export { HttpError, type HttpErrorCode, isMdmkitError } from './errors';
export type {
  ClientCertificate,
  Handler,
  HttpRequest,
  HttpResponse,
  RequestHeaders,
  ResponseHeaders,
} from './types';
export {
  type AdapterOptions,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
} from './options';
export { type ClientCertHeaderFormat, decodeClientCertHeader, MAX_HEADER_CERT_BYTES } from './client-cert';
export { textResponse } from './dispatch';
export { type NodeListener, toNodeListener } from './node';
export { type ConnectionInfo, type FetchHandler, toFetchHandler } from './fetch';
export { createRouter, type RouteHandler, type RouteParams, type Router, type RouterOptions } from './router';
export { type RunningHttpServer, type ServeOptions, serve } from './serve';
