import type { Handler, HttpRequest, HttpResponse } from '@mdmkit/http';
import type { SecretVault } from '@mdmkit/escrow';
import type { MdmLifecycle } from '@mdmkit/server';
import { json, readJsonObject } from './api-io';
import type { RouteContext } from './app';
import { ReferenceServerError } from './errors';
import type { OperationRouteName } from './routes';
import { SERVER_OWNER } from './stores';

type RouteHandler = (request: HttpRequest, context: RouteContext) => HttpResponse | Promise<HttpResponse>;

/** What the NanoMDM and enrollment-operation handlers work with. */
export interface OperationsContext {
  /** `@mdmkit/server`'s NanoMDM API, answering basic auth with `internalKey` only. */
  nanomdm: Handler;
  internalKey: string;
  /** The `/migration` handler; it takes the actor from {@link OperationsContext.actors}. */
  migration: Handler;
  /** Who is calling, for handlers that record an actor of their own. */
  actors: WeakMap<HttpRequest, string>;
  lifecycle: MdmLifecycle | undefined;
  /** Opens device secrets; every read is an audit event first. */
  vault: SecretVault;
}

/** Stated reason of a change: the JSON body's `reason`, else the `X-Mdmkit-Reason` header. */
function reasonOf(request: HttpRequest): string {
  const fromBody = request.body.length > 0 ? readJsonObject(request).reason : undefined;
  const reason = typeof fromBody === 'string' ? fromBody : request.headers.get('x-mdmkit-reason');
  if (!reason || reason.trim() === '' || reason.length > 500) {
    throw new ReferenceServerError(
      'BAD_REQUEST',
      'state a reason (1 to 500 characters): {"reason": "…"} or X-Mdmkit-Reason',
    );
  }
  return reason.trim();
}

/**
 * The same request with another `Authorization` header. The NanoMDM API knows one password; the server
 * checks the caller's own token and role first, then hands the request on with that password.
 */
function withAuthorization(request: HttpRequest, authorization: string): HttpRequest {
  const headers = {
    get: (name: string) =>
      name.toLowerCase() === 'authorization' ? authorization : request.headers.get(name),
  };
  return new Proxy(request, {
    get: (target, property) => (property === 'headers' ? headers : Reflect.get(target, property, target)),
  });
}

/**
 * Handlers of NanoMDM's routes and of the enrollment operations (block, unblock, remove, DDM status).
 *
 * @example
 * ```ts
 * const handlers = operationsHandlers({ nanomdm: nano.handler, internalKey, migration, actors, lifecycle: mdm.lifecycle });
 * ```
 */
export function operationsHandlers(ctx: OperationsContext): Record<OperationRouteName, RouteHandler> {
  const basic = `Basic ${Buffer.from(`nanomdm:${ctx.internalKey}`).toString('base64')}`;
  const nano: RouteHandler = (request) => ctx.nanomdm(withAuthorization(request, basic));
  const lifecycle = (): MdmLifecycle => {
    if (!ctx.lifecycle)
      throw new ReferenceServerError('NOT_FOUND', 'enrollment operations need lifecycle storage');
    return ctx.lifecycle;
  };
  return {
    'nanomdm.enqueue': nano,
    'nanomdm.push': nano,
    'nanomdm.pushcert': nano,
    'nanomdm.version': nano,
    'nanomdm.migration': (request, { principal }) => {
      ctx.actors.set(request, principal!.user);
      return ctx.migration(request);
    },
    'enrollments.block': async (request, { params, principal }) => {
      await lifecycle().block(params.id!, { actor: principal!.user, reason: reasonOf(request) });
      return json(200, { enrollmentId: params.id, blocked: true });
    },
    'enrollments.unblock': async (request, { params, principal }) => {
      const was = await lifecycle().unblock(params.id!, {
        actor: principal!.user,
        reason: reasonOf(request),
      });
      if (!was) throw new ReferenceServerError('NOT_FOUND', `enrollment ${params.id} is not blocked`);
      return json(200, { enrollmentId: params.id, blocked: false });
    },
    'enrollments.remove': async (request, { params, principal }) => {
      const { commandUuid } = await lifecycle().remove(params.id!, {
        actor: principal!.user,
        reason: reasonOf(request),
      });
      return json(202, { enrollmentId: params.id, commandUuid });
    },
    'secrets.read': async (request, { params, principal }) => {
      // The secret store also holds the server's own keys and users (the SCEP CA, the profile signer,
      // tokens) and the packages' (`mdmkit:`); this route opens what devices escrowed, nothing else.
      const owner = params.id!;
      if (owner === SERVER_OWNER || owner.startsWith(`${SERVER_OWNER}:`) || owner.startsWith('mdmkit:')) {
        throw new ReferenceServerError('NOT_FOUND', `no ${params.kind} stored for ${owner}`);
      }
      const reason = request.headers.get('x-mdmkit-reason')?.trim();
      if (!reason || reason.length > 500) {
        throw new ReferenceServerError('BAD_REQUEST', 'state why in X-Mdmkit-Reason (1 to 500 characters)');
      }
      try {
        const reading = await ctx.vault.read({
          owner,
          kind: params.kind!,
          actor: principal!.user,
          reason,
        });
        return json(200, {
          enrollmentId: params.id,
          kind: params.kind,
          value: reading.text,
          version: reading.version,
          updatedAt: reading.updatedAt.toISOString(),
          auditEventId: reading.event.id,
        });
      } catch (e) {
        if ((e as { code?: string }).code === 'INVALID_INPUT') {
          throw new ReferenceServerError('BAD_REQUEST', (e as Error).message, { cause: e });
        }
        if ((e as { code?: string }).code === 'NOT_FOUND') {
          throw new ReferenceServerError('NOT_FOUND', `no ${params.kind} stored for ${params.id}`, {
            cause: e,
          });
        }
        throw e;
      }
    },
    'enrollments.ddmStatus': async (_request, { params }) => {
      const status = await lifecycle().ddmStatus(params.id!);
      if (!status) throw new ReferenceServerError('NOT_FOUND', `no status report from ${params.id}`);
      return json(200, { enrollmentId: params.id, status });
    },
  };
}
