import type { z } from 'zod';
import type { AdminPermission } from './auth';
import {
  ClearedSchema,
  EnqueueBodySchema,
  EnqueueResponseSchema,
  EnrollmentListQuerySchema,
  EnrollmentPageSchema,
  EnrollmentSchema,
  IdParamsSchema,
  OpenApiDocumentSchema,
  PushBodySchema,
  PushCertBodySchema,
  PushCertListSchema,
  PushCertSchema,
  PushResultSchema,
  QueueSchema,
  ResultsSchema,
  UuidParamsSchema,
} from './schemas';

/** One route of the admin API: what it takes, answers and needs. */
export interface AdminRoute {
  /** Stable operation id (OpenAPI `operationId`). */
  id: AdminOperation;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path under the API's prefix, with `:name` parameters. */
  path: string;
  permission: AdminPermission;
  summary: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The success answer's body. */
  response: z.ZodType;
  /** The success status. */
  status: number;
  /** The operation can answer 409 (a CommandUUID already used). */
  conflict?: boolean;
}

/** Operation ids of the admin API. */
export type AdminOperation =
  | 'enqueueCommand'
  | 'push'
  | 'listEnrollments'
  | 'getEnrollment'
  | 'getQueue'
  | 'clearQueue'
  | 'getResults'
  | 'putPushCertificate'
  | 'getPushCertificates'
  | 'getOpenApi';

/** Default prefix of the admin API. */
export const ADMIN_API_PREFIX = '/api/v1';

/**
 * Every route of the admin API with the permission it requires. Hosts map their roles onto the
 * permissions (for example observer → read; maintainer → read, write; admin → all).
 *
 * @example
 * ```ts
 * import { ADMIN_ROUTES } from '@mdmkit/server';
 * for (const r of ADMIN_ROUTES) console.log(r.method, r.path, r.permission);
 * ```
 */
export const ADMIN_ROUTES: readonly AdminRoute[] = Object.freeze([
  {
    id: 'enqueueCommand',
    method: 'POST',
    path: '/commands',
    permission: 'write',
    summary: 'Queue a typed or raw command for enrollments, then push them (unless push is false)',
    body: EnqueueBodySchema,
    response: EnqueueResponseSchema,
    status: 201,
    conflict: true,
  },
  {
    id: 'push',
    method: 'POST',
    path: '/push',
    permission: 'write',
    summary: 'Send an MDM push to enrollments',
    body: PushBodySchema,
    response: PushResultSchema,
    status: 200,
  },
  {
    id: 'listEnrollments',
    method: 'GET',
    path: '/enrollments',
    permission: 'read',
    summary: 'List enrollments, filtered and paged by id',
    query: EnrollmentListQuerySchema,
    response: EnrollmentPageSchema,
    status: 200,
  },
  {
    id: 'getEnrollment',
    method: 'GET',
    path: '/enrollments/:id',
    permission: 'read',
    summary: 'Get one enrollment',
    params: IdParamsSchema,
    response: EnrollmentSchema,
    status: 200,
  },
  {
    id: 'getQueue',
    method: 'GET',
    path: '/enrollments/:id/queue',
    permission: 'read',
    summary: "List an enrollment's unfinished commands in hand-out order",
    params: IdParamsSchema,
    response: QueueSchema,
    status: 200,
  },
  {
    id: 'clearQueue',
    method: 'DELETE',
    path: '/enrollments/:id/queue',
    permission: 'write',
    summary: "Remove every unfinished command from an enrollment's queue",
    params: IdParamsSchema,
    response: ClearedSchema,
    status: 200,
  },
  {
    id: 'getResults',
    method: 'GET',
    path: '/commands/:uuid/results',
    permission: 'read',
    summary: 'The stored results of a command, one per enrollment that answered',
    params: UuidParamsSchema,
    response: ResultsSchema,
    status: 200,
  },
  {
    id: 'putPushCertificate',
    method: 'PUT',
    path: '/push-certificate',
    permission: 'secrets',
    summary: 'Upload the APNs push certificate and its private key (PEM); the key is sealed at rest',
    body: PushCertBodySchema,
    response: PushCertSchema,
    status: 200,
  },
  {
    id: 'getPushCertificates',
    method: 'GET',
    path: '/push-certificate',
    permission: 'read',
    summary: 'The stored push certificates (public part only)',
    response: PushCertListSchema,
    status: 200,
  },
  {
    id: 'getOpenApi',
    method: 'GET',
    path: '/openapi.json',
    permission: 'read',
    summary: 'This API described as OpenAPI 3.1',
    response: OpenApiDocumentSchema,
    status: 200,
  },
] satisfies AdminRoute[]);
