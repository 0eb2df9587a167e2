import type { Certificate } from '@mdmkit/crypto';
import type { HttpRequest, HttpResponse } from '@mdmkit/http';
import type { AuditEventStore } from '@mdmkit/storage';
import type { AccessControl } from './access';
import { json, readJsonObject } from './api-io';
import type { RouteContext } from './app';
import { ReferenceServerError } from './errors';
import { isRole } from './roles';

type RouteHandler = (request: HttpRequest, context: RouteContext) => HttpResponse | Promise<HttpResponse>;

/** What the user, token and activity handlers work on. */
export interface AdminApiContext {
  access: AccessControl;
  activity: Pick<AuditEventStore, 'listAuditEvents'>;
  certificates: () => Promise<{ scepCa: Certificate; profileSigner: Certificate; escrow: Certificate }>;
}

function limitOf(request: HttpRequest): number {
  const raw = request.query.get('limit');
  if (raw === null) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new ReferenceServerError('BAD_REQUEST', 'limit must be an integer from 1 to 1000');
  }
  return n;
}

/**
 * Handlers of the server's own admin routes: the caller, users, tokens, the activity feed and the
 * public certificates.
 *
 * @example
 * ```ts
 * const handlers = adminApiHandlers({ access, activity: storage, certificates });
 * ```
 */
export function adminApiHandlers(ctx: AdminApiContext) {
  const { access } = ctx;
  return {
    me: ((_request, { principal }) =>
      json(200, {
        user: principal!.user,
        role: principal!.role,
        tokenId: principal!.tokenId,
      })) as RouteHandler,

    certificates: (async () => {
      const c = await ctx.certificates();
      return json(200, {
        scepCa: c.scepCa.pem,
        profileSigner: c.profileSigner.pem,
        fileVaultEscrow: c.escrow.pem,
      });
    }) as RouteHandler,

    'activity.list': (async (request) => {
      const after = request.query.get('after') ?? undefined;
      const owner = request.query.get('owner') ?? undefined;
      const actor = request.query.get('actor') ?? undefined;
      const page = await ctx.activity.listAuditEvents({
        limit: limitOf(request),
        ...(after ? { after } : {}),
        ...(owner ? { owner } : {}),
        ...(actor ? { actor } : {}),
      });
      return json(200, {
        events: page.items.map((e) => ({ ...e, at: e.at.toISOString() })),
        ...(page.next ? { next: page.next } : {}),
      });
    }) as RouteHandler,

    'users.list': (async () => json(200, { users: await access.listUsers() })) as RouteHandler,

    'users.create': (async (request) => {
      const body = readJsonObject(request);
      if (typeof body.name !== 'string') throw new ReferenceServerError('BAD_REQUEST', 'name is required');
      if (!isRole(body.role))
        throw new ReferenceServerError('BAD_REQUEST', 'role must be admin, maintainer or observer');
      const created = await access.createUser(body.name, body.role);
      return json(201, { user: created.user, token: created.token, tokenId: created.tokenId });
    }) as RouteHandler,

    'users.delete': (async (_request, { params, principal }) => {
      const name = params.name!;
      if (name === principal!.user) throw new ReferenceServerError('CONFLICT', 'you cannot delete yourself');
      if (!(await access.deleteUser(name))) throw new ReferenceServerError('NOT_FOUND', `no user ${name}`);
      return { status: 204 };
    }) as RouteHandler,

    'tokens.list': (async (request) => {
      const user = request.query.get('user') ?? undefined;
      return json(200, { tokens: await access.listTokens(user) });
    }) as RouteHandler,

    'tokens.create': (async (_request, { params }) => {
      const issued = await access.issueToken(params.name!);
      return json(201, { token: issued.token, tokenId: issued.tokenId, user: params.name });
    }) as RouteHandler,

    'tokens.revoke': (async (_request, { params }) => {
      if (!(await access.revokeToken(params.id!)))
        throw new ReferenceServerError('NOT_FOUND', `no token ${params.id}`);
      return { status: 204 };
    }) as RouteHandler,
  };
}
