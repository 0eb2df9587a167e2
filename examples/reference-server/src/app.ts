import { randomUUID } from 'node:crypto';
import {
  createRouter,
  type Handler,
  type HttpRequest,
  type HttpResponse,
  type RouteParams,
} from '@mdmkit/http';
import type { AuditEventStore } from '@mdmkit/storage';
import type { AccessControl, Principal } from './access';
import { errorResponse, json } from './api-io';
import { ReferenceServerError } from './errors';
import type { Logger } from './logger';
import type { Counter, Histogram } from './metrics';
import { allows } from './roles';
import type { RouteSpec } from './routes';

/** What a route handler gets beside the request. */
export interface RouteContext {
  params: RouteParams;
  /** The authenticated caller, for `read`/`write`/`admin` routes. */
  principal: Principal | undefined;
  requestId: string;
  log: Logger;
}

/** A route of the table with its handler. */
export interface MountedRoute extends RouteSpec {
  handler: (request: HttpRequest, context: RouteContext) => HttpResponse | Promise<HttpResponse>;
}

/** Options of {@link createApp}. */
export interface AppOptions {
  routes: readonly MountedRoute[];
  access: AccessControl;
  activity: Pick<AuditEventStore, 'appendAuditEvent'>;
  log: Logger;
  requests: Counter;
  durations: Histogram;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const CHANGES = new Set(['write', 'admin']);

/** Owner of an activity event: the route's subject when it has one. */
const subjectOf = (params: RouteParams) => params.id ?? params.name ?? params.udid ?? params.ids ?? 'server';

/**
 * Mounts the route table behind one pipeline: request id, authentication and the role check for
 * every token-guarded route, the activity feed for every change (and every refused attempt), JSON
 * logs and request metrics. Nothing reaches a handler past a permission it lacks.
 *
 * @example
 * ```ts
 * const handler = createApp({ routes, access, activity: storage, log, requests, durations });
 * await serve(handler, { port: 8443 });
 * ```
 */
export function createApp(options: AppOptions): Handler {
  const { access, activity, log } = options;

  const record = async (
    principal: Principal,
    route: RouteSpec,
    params: RouteParams,
    request: HttpRequest,
    status: number,
  ) => {
    const stated = request.headers.get('x-mdmkit-reason')?.slice(0, 500).trim();
    await activity.appendAuditEvent({
      actor: principal.user,
      action: route.name,
      owner: subjectOf(params).slice(0, 200),
      kind: status === 403 ? 'api-refused' : 'api',
      reason: stated || `${request.method} ${request.path} answered ${status} (token ${principal.tokenId})`,
    });
  };

  const guarded =
    (route: MountedRoute) =>
    async (request: HttpRequest, params: RouteParams, requestId: string, rlog: Logger) => {
      let principal: Principal | undefined;
      if (route.permission === 'read' || route.permission === 'write' || route.permission === 'admin') {
        principal = await access.authenticateRequest(request);
        if (!allows(principal.role, route.permission)) {
          if (CHANGES.has(route.permission)) await record(principal, route, params, request, 403);
          throw new ReferenceServerError('FORBIDDEN', `role ${principal.role} may not use ${route.name}`);
        }
      }
      const response = await route.handler(request, { params, principal, requestId, log: rlog });
      if (principal && CHANGES.has(route.permission) && response.status < 500 && !route.recordsItself) {
        await record(principal, route, params, request, response.status);
      }
      return response;
    };

  const router = createRouter({
    notFound: () => json(404, { error: { code: 'NOT_FOUND', message: 'no such endpoint' } }),
  });
  type Bound = { request: HttpRequest; requestId: string; log: Logger; route?: string };
  const current = new WeakMap<HttpRequest, Bound>();
  for (const route of options.routes) {
    const run = guarded(route);
    router.add(route.method, route.path, async (request, params) => {
      const bound = current.get(request)!;
      bound.route = route.name;
      try {
        return await run(request, params, bound.requestId, bound.log);
      } catch (e) {
        if (e instanceof ReferenceServerError) return errorResponse(e);
        bound.log.error('request failed', { route: route.name, error: e });
        return json(500, { error: { code: 'INTERNAL', message: 'internal error' } });
      }
    });
  }

  const handler: Handler = async (request) => {
    const started = performance.now();
    const given = request.headers.get('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    const rlog = log.child({ requestId });
    const bound: Bound = { request, requestId, log: rlog };
    current.set(request, bound);
    let response: HttpResponse;
    try {
      response = await router.handle(request);
    } catch (e) {
      rlog.error('request failed', { error: e });
      response = json(500, { error: { code: 'INTERNAL', message: 'internal error' } });
    }
    const route = bound.route ?? 'unmatched';
    const seconds = (performance.now() - started) / 1000;
    options.requests.inc({ route, status: String(response.status) });
    options.durations.observe(seconds, { route });
    const fields = {
      method: request.method,
      path: request.path,
      route,
      status: response.status,
      ms: Math.round(seconds * 1000),
    };
    if (response.status >= 500) rlog.error('request', fields);
    else if (route.startsWith('mdm.') || route.startsWith('scep.')) rlog.debug('request', fields);
    else rlog.info('request', fields);
    return { ...response, headers: { ...response.headers, 'x-request-id': requestId } };
  };

  return handler;
}
