import type { HttpResponse } from '@mdmkit/http';
import type { MountedRoute } from './app';

/**
 * Commands whose answers carry a device secret. Their results reach admins only: everyone else sees
 * the status but not the payload, as the secret would otherwise bypass the audited secret route.
 */
export const SECRET_BEARING_COMMANDS: ReadonlySet<string> = new Set(['ActivationLockBypassCode']);

interface ResultsBody {
  results?: { requestType?: unknown; rawPayload?: unknown }[];
}

/**
 * Wraps the command-results handler so that callers without the `admin` role get the results of
 * secret-bearing commands without their `rawPayload`.
 *
 * @example
 * ```ts
 * handlers['api.getResults'] = withoutSecretPayloads(handlers['api.getResults']);
 * ```
 */
export function withoutSecretPayloads(handler: MountedRoute['handler']): MountedRoute['handler'] {
  return async (request, context) => {
    const response = await handler(request, context);
    if (context.principal?.role === 'admin' || response.status !== 200 || response.body === undefined) {
      return response;
    }
    const text = typeof response.body === 'string' ? response.body : new TextDecoder().decode(response.body);
    const parsed = JSON.parse(text) as ResultsBody;
    if (!Array.isArray(parsed.results)) return response;
    parsed.results = parsed.results.map((r) => {
      if (typeof r.requestType === 'string' && !SECRET_BEARING_COMMANDS.has(r.requestType)) return r;
      const { rawPayload: _hidden, ...rest } = r;
      return { ...rest, payloadWithheld: 'admin role required' };
    });
    const redacted: HttpResponse = { ...response, body: `${JSON.stringify(parsed)}\n` };
    return redacted;
  };
}
