import { installPushCertificate, parsePushCertificate, type PushCertificateInfo } from '@mdmkit/apns';
import { buildCommand } from '@mdmkit/commands';
import type { KeyProvider } from '@mdmkit/crypto';
import { createRouter, type Handler, type HttpRequest, type HttpResponse, type Router } from '@mdmkit/http';
import { type Command, decodeCommand } from '@mdmkit/protocol';
import type {
  CommandResults,
  EnrollmentLookup,
  EnrollmentQueries,
  EnrollmentRecord,
  PushCertStore,
  QueueAdmin,
  QueueEntry,
} from '@mdmkit/storage';
import { z } from 'zod';
import { isMdmkitError, ServerError } from '../errors';
import type { MdmServer } from '../server';
import { type AdminAuthorizer, type AdminPrincipal, apiKeyAuthorizer, crossSiteBrowserRequest } from './auth';
import { base64, jsonError, jsonResponse } from './json';
import { adminOpenApi } from './openapi';
import { ADMIN_API_PREFIX, ADMIN_ROUTES, type AdminOperation, type AdminRoute } from './routes';
import type {
  EnqueueBodySchema,
  EnrollmentListQuerySchema,
  PushBodySchema,
  PushCertBodySchema,
} from './schemas';

/** What the admin API reads and writes. */
export type AdminStorage = Pick<EnrollmentLookup, 'getEnrollment'> &
  EnrollmentQueries &
  QueueAdmin &
  Pick<CommandResults, 'getResults'> &
  PushCertStore;

/** Options of {@link createAdminApi}. */
export interface AdminApiOptions {
  /** Enqueues and pushes (the running server). */
  mdm: Pick<MdmServer, 'enqueue' | 'push'>;
  storage: AdminStorage;
  /** Seals the uploaded push certificate's private key. */
  keyProvider: KeyProvider;
  /** Decides who may call which route; default {@link apiKeyAuthorizer} with `apiKey`. */
  authorize?: AdminAuthorizer;
  /** The API key of the default authorizer (at least 16 characters). */
  apiKey?: string;
  /** Path prefix. Default `/api/v1`. */
  prefix?: string;
  /** Public origins for the OpenAPI document's `servers`. */
  servers?: string[];
  /** Told about every call after authorization (principal, operation, status). */
  onCall?: (call: { principal: AdminPrincipal; operation: AdminOperation; status: number }) => void;
}

/** The mounted admin API. */
export interface AdminApi {
  /** Every route behind one router. */
  readonly handler: Handler;
  /** The route table (with permissions), as {@link ADMIN_ROUTES}. */
  readonly routes: readonly AdminRoute[];
  /** The OpenAPI 3.1 document served at `<prefix>/openapi.json`. */
  readonly openapi: Record<string, unknown>;
  /** Mounts every route on an existing router. */
  mount(router: Router): void;
}

class BadRequest extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const iso = (d: Date | undefined): string | undefined => d?.toISOString();

function enrollmentJson(r: EnrollmentRecord) {
  // The unlock token and push magic stay out: they are device secrets, not admin data.
  return {
    id: r.id,
    channel: r.channel,
    deviceId: r.deviceId,
    ...(r.serialNumber !== undefined ? { serialNumber: r.serialNumber } : {}),
    ...(r.userId !== undefined ? { userId: r.userId } : {}),
    ...(r.userShortName !== undefined ? { userShortName: r.userShortName } : {}),
    ...(r.userLongName !== undefined ? { userLongName: r.userLongName } : {}),
    ...(r.topic !== undefined ? { topic: r.topic } : {}),
    hasPushToken: r.pushToken !== undefined,
    enabled: r.enabled,
    tokenUpdateTally: r.tokenUpdateTally,
    ...(r.lastSeenAt ? { lastSeenAt: r.lastSeenAt.toISOString() } : {}),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

function queueEntryJson(e: QueueEntry) {
  return {
    commandUuid: e.uuid,
    requestType: e.requestType,
    priority: e.priority ?? 0,
    ...(e.notBefore ? { notBefore: iso(e.notBefore) } : {}),
    ...(e.expiresAt ? { expiresAt: iso(e.expiresAt) } : {}),
    ...(e.lastStatus ? { lastStatus: e.lastStatus } : {}),
    notNowCount: e.notNowCount,
    ...(e.lastStatusAt ? { lastStatusAt: iso(e.lastStatusAt) } : {}),
  };
}

function pushCertJson(info: PushCertificateInfo, updatedAt?: Date) {
  return {
    topic: info.topic,
    serialNumber: info.serialNumber,
    subject: info.subject,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    renewBy: info.renewBy.toISOString(),
    fingerprintSha256: info.fingerprintSha256,
    ...(updatedAt ? { updatedAt: updatedAt.toISOString() } : {}),
  };
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new BadRequest('INVALID_REQUEST', `${what}: ${z.prettifyError(r.error)}`);
  return r.data;
}

function jsonBody(req: HttpRequest): unknown {
  if (req.body.byteLength === 0) throw new BadRequest('INVALID_REQUEST', 'a JSON body is required');
  try {
    return JSON.parse(Buffer.from(req.body).toString('utf8'));
  } catch {
    throw new BadRequest('INVALID_REQUEST', 'the body is not JSON');
  }
}

/** Maps what an operation threw to an answer: clear errors for bad input, 500 for the rest. */
function errorAnswer(e: unknown): HttpResponse {
  if (e instanceof BadRequest) return jsonError(e.status, e.code, e.message);
  if (isMdmkitError(e)) {
    const code = e.code;
    if (code === 'CONFLICT') return jsonError(409, code, e.message);
    if (code === 'NOT_FOUND') return jsonError(404, code, e.message);
    if (
      [
        'INVALID_COMMAND',
        'UNKNOWN_COMMAND',
        'KEY_NOT_AVAILABLE',
        'INVALID_INPUT',
        'PAYLOAD_TOO_LARGE',
        'INVALID_ARGUMENT',
        'INVALID_CERTIFICATE',
        'INVALID_TOPIC',
        'CERTIFICATE_EXPIRED',
        'CERTIFICATE_NOT_YET_VALID',
        'KEY_MISMATCH',
        'TOPIC_MISMATCH',
        'INVALID_PLIST',
        'INVALID_KEY',
      ].includes(code)
    ) {
      return jsonError(400, code, e.message);
    }
  }
  return jsonError(500, 'INTERNAL', 'internal error');
}

/**
 * The admin API: JSON routes to enqueue typed or raw commands to many enrollments (and push them),
 * push, list and read enrollments, inspect and clear queues, read results by CommandUUID and manage
 * the push certificate. Every request and answer body is checked against the zod schemas the
 * OpenAPI document (served at `<prefix>/openapi.json`) is generated from. Every route asks the
 * authorizer first; the default one takes a single API key as a bearer token or `X-API-Key`.
 *
 * @example
 * ```ts
 * import { createAdminApi } from '@mdmkit/server';
 * const admin = createAdminApi({ mdm, storage, keyProvider, apiKey: process.env.MDM_API_KEY });
 * // mount admin.handler (or admin.mount(router)) beside mdm.handler
 * ```
 */
export function createAdminApi(options: AdminApiOptions): AdminApi {
  const { mdm, storage, keyProvider } = options;
  const prefix = options.prefix ?? ADMIN_API_PREFIX;
  let authorize = options.authorize;
  if (!authorize) {
    if (options.apiKey === undefined) {
      throw new ServerError('INVALID_OPTIONS', 'the admin API needs authorize or apiKey');
    }
    authorize = apiKeyAuthorizer(options.apiKey);
  }
  const openapi = adminOpenApi({ prefix, ...(options.servers ? { servers: options.servers } : {}) });

  const operations: Record<
    AdminOperation,
    (req: HttpRequest, params: Record<string, string>) => Promise<unknown>
  > = {
    async enqueueCommand(req) {
      const body = parseWith(route('enqueueCommand').body!, jsonBody(req), 'body') as z.output<
        typeof EnqueueBodySchema
      >;
      let command: Command;
      if (body.command) {
        command = buildCommand(body.command.requestType, body.command.payload ?? {}, {
          ...(body.command.commandUuid !== undefined ? { commandUUID: body.command.commandUuid } : {}),
        }) as Command;
      } else {
        command = decodeCommand(body.plist as string);
      }
      const ids = [...new Set(body.enrollmentIds)];
      const result = await mdm.enqueue(command, ids, {
        push: body.push !== false,
        ...(body.priority !== undefined ? { priority: body.priority } : {}),
        ...(body.notBefore ? { notBefore: new Date(body.notBefore) } : {}),
        ...(body.expiresAt ? { expiresAt: new Date(body.expiresAt) } : {}),
      });
      return {
        commandUuid: result.commandUuid,
        requestType: command.Command.RequestType,
        enrollmentIds: ids,
        ...(result.push ? { push: result.push } : {}),
      };
    },
    async push(req) {
      const body = parseWith(route('push').body!, jsonBody(req), 'body') as z.output<typeof PushBodySchema>;
      return mdm.push([...new Set(body.enrollmentIds)]);
    },
    async listEnrollments(req) {
      const q = parseWith(
        route('listEnrollments').query!,
        Object.fromEntries(req.query),
        'query',
      ) as z.output<typeof EnrollmentListQuerySchema>;
      const page = await storage.listEnrollments(q);
      return { items: page.items.map(enrollmentJson), ...(page.next ? { next: page.next } : {}) };
    },
    async getEnrollment(_req, params) {
      const rec = await storage.getEnrollment(params.id as string);
      if (!rec) throw new BadRequest('NOT_FOUND', 'no such enrollment', 404);
      return enrollmentJson(rec);
    },
    async getQueue(_req, params) {
      const id = params.id as string;
      return { enrollmentId: id, items: (await storage.listQueue(id)).map(queueEntryJson) };
    },
    async clearQueue(_req, params) {
      const id = params.id as string;
      return { enrollmentId: id, cleared: await storage.clearQueue(id) };
    },
    async getResults(_req, params) {
      const uuid = params.uuid as string;
      const results = await storage.getResults(uuid);
      return {
        commandUuid: uuid,
        results: results.map((r) => ({
          enrollmentId: r.enrollmentId,
          commandUuid: r.commandUuid,
          requestType: r.requestType,
          status: r.status,
          receivedAt: r.receivedAt.toISOString(),
          rawPayload: base64(r.payload),
        })),
      };
    },
    async putPushCertificate(req) {
      const body = parseWith(route('putPushCertificate').body!, jsonBody(req), 'body') as z.output<
        typeof PushCertBodySchema
      >;
      const installed = await installPushCertificate({
        store: storage,
        keyProvider,
        certificate: body.certificate,
        privateKey: body.privateKey,
        ...(body.force ? { force: true } : {}),
      });
      return pushCertJson(installed.info);
    },
    async getPushCertificates() {
      const items = [];
      for (const rec of await storage.listPushCerts()) {
        items.push(pushCertJson(parsePushCertificate(rec.certificatePem), rec.updatedAt));
      }
      return { items };
    },
    async getOpenApi() {
      return openapi;
    },
  };

  function route(id: AdminOperation): AdminRoute {
    return ADMIN_ROUTES.find((r) => r.id === id) as AdminRoute;
  }

  function handlerFor(r: AdminRoute) {
    return async (req: HttpRequest, rawParams: Record<string, string>): Promise<HttpResponse> => {
      if (crossSiteBrowserRequest(req)) {
        return jsonError(403, 'CROSS_SITE', 'requests made by a page of another site are refused');
      }
      let decision: Awaited<ReturnType<AdminAuthorizer>>;
      try {
        decision = await (authorize as AdminAuthorizer)(req, {
          id: r.id,
          method: r.method,
          path: r.path,
          permission: r.permission,
        });
      } catch {
        return jsonError(500, 'INTERNAL', 'internal error');
      }
      if (!decision.allow) {
        return jsonError(
          decision.status,
          decision.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN',
          decision.reason,
          decision.status === 401 ? { 'www-authenticate': 'Bearer realm="mdmkit"' } : {},
        );
      }
      let answer: HttpResponse;
      try {
        const params = r.params ? (parseWith(r.params, rawParams, 'path') as Record<string, string>) : {};
        const value = await operations[r.id](req, params);
        // Strict when we build: an answer that does not match its own schema is a bug, not data.
        const checked = r.response.safeParse(value);
        answer = checked.success
          ? jsonResponse(r.status, value)
          : jsonError(500, 'INTERNAL', 'internal error');
      } catch (e) {
        answer = errorAnswer(e);
      }
      try {
        options.onCall?.({ principal: decision.principal, operation: r.id, status: answer.status });
      } catch {
        // A listener never changes the answer.
      }
      return answer;
    };
  }

  function mount(router: Router): void {
    for (const r of ADMIN_ROUTES) router.add(r.method, `${prefix}${r.path}`, handlerFor(r));
  }
  const router = createRouter();
  mount(router);

  return { handler: router.handle, routes: ADMIN_ROUTES, openapi, mount };
}
