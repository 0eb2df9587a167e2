import { ANSWERS, textResponse } from './dispatch';
import { HttpError } from './errors';
import type { Handler, HttpRequest, HttpResponse } from './types';

/** Values of a pattern's `:name` segments (percent-decoded), and `*` for the rest of a wildcard path. */
export type RouteParams = Readonly<Record<string, string>>;

/** A handler mounted on a route; gets the route's parameters beside the request. */
export type RouteHandler = (
  request: HttpRequest,
  params: RouteParams,
) => HttpResponse | Promise<HttpResponse>;

/** A method and path router; itself a {@link Handler}. */
export interface Router {
  /** The router as a handler, for an adapter. */
  readonly handle: Handler;
  /**
   * Mounts `handler` for `method` (or `*` for any) on `pattern`: `/literal`, `/devices/:udid`, or a
   * final `*` for the rest of the path (`/files/*`). Static routes win over parameter routes; among
   * parameter routes the first added wins. Throws `INVALID_OPTIONS` for a bad or repeated route.
   */
  add(method: string, pattern: string, handler: RouteHandler): Router;
  get(pattern: string, handler: RouteHandler): Router;
  post(pattern: string, handler: RouteHandler): Router;
  put(pattern: string, handler: RouteHandler): Router;
  delete(pattern: string, handler: RouteHandler): Router;
}

/** Options of {@link createRouter}. */
export interface RouterOptions {
  /** Answers a path no route matches. Default: plain 404. */
  notFound?: Handler;
}

type Segment = { literal: string } | { param: string } | { rest: true };

interface DynamicRoute {
  segments: Segment[];
  methods: Map<string, RouteHandler>;
}

const METHOD_NOT_ALLOWED = textResponse(405, 'method not allowed');
const NO_PARAMS: RouteParams = Object.freeze({});
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A router small enough to read: exact paths are one map lookup, `:param` and `*` routes are tried
 * in order. A path that matches with the wrong method gets 405 with `Allow`; `HEAD` falls back to
 * `GET`; one trailing slash is ignored.
 *
 * @example
 * ```ts
 * import { createRouter, toNodeListener } from '@mdmkit/http';
 * const router = createRouter()
 *   .put('/mdm/checkin', (req) => checkin(req))
 *   .get('/devices/:udid', (req, { udid }) => ({ status: 200, body: udid }));
 * createServer(toNodeListener(router.handle));
 * ```
 */
export function createRouter(options: RouterOptions = {}): Router {
  const statics = new Map<string, Map<string, RouteHandler>>();
  const dynamics: DynamicRoute[] = [];
  const notFound: Handler = options.notFound ?? (() => ANSWERS.notFound);

  /** The method table of a pattern, made on first use. */
  function methodsFor(segments: Segment[], pattern: string): Map<string, RouteHandler> {
    if (segments.every((s) => 'literal' in s)) {
      const key = normalise(pattern);
      const known = statics.get(key);
      if (known) return known;
      const fresh = new Map<string, RouteHandler>();
      statics.set(key, fresh);
      return fresh;
    }
    const known = dynamics.find((d) => samePattern(d.segments, segments));
    if (known) return known.methods;
    const fresh = new Map<string, RouteHandler>();
    dynamics.push({ segments, methods: fresh });
    return fresh;
  }

  function add(method: string, pattern: string, handler: RouteHandler): Router {
    const m = method === '*' ? '*' : method.toUpperCase();
    if (m !== '*' && !/^[A-Z]+$/.test(m)) throw new HttpError('INVALID_OPTIONS', `bad method ${method}`);
    const segments = parsePattern(pattern);
    const methods = methodsFor(segments, pattern);
    if (methods.has(m)) throw new HttpError('INVALID_OPTIONS', `route ${m} ${pattern} is already mounted`);
    methods.set(m, handler);
    return router;
  }

  const handle: Handler = (request) => {
    const path = normalise(request.path);
    const exact = statics.get(path);
    if (exact) return pick(exact, request, NO_PARAMS);
    if (dynamics.length > 0) {
      const parts = path.split('/');
      for (const route of dynamics) {
        const params = match(route.segments, parts);
        if (params === 'bad') return ANSWERS.badRequest;
        if (params) return pick(route.methods, request, params);
      }
    }
    return notFound(request);
  };

  const router: Router = {
    handle,
    add,
    get: (p, h) => add('GET', p, h),
    post: (p, h) => add('POST', p, h),
    put: (p, h) => add('PUT', p, h),
    delete: (p, h) => add('DELETE', p, h),
  };
  return router;
}

function pick(
  methods: Map<string, RouteHandler>,
  request: HttpRequest,
  params: RouteParams,
): HttpResponse | Promise<HttpResponse> {
  const h =
    methods.get(request.method) ??
    (request.method === 'HEAD' ? methods.get('GET') : undefined) ??
    methods.get('*');
  if (h) return h(request, params);
  const allow = [...methods.keys()];
  if (allow.includes('GET')) allow.push('HEAD');
  return { ...METHOD_NOT_ALLOWED, headers: { ...METHOD_NOT_ALLOWED.headers, allow: allow.join(', ') } };
}

/** Drops one trailing slash (never the root's). */
function normalise(path: string): string {
  return path.length > 1 && path.charCodeAt(path.length - 1) === 47 ? path.slice(0, -1) : path;
}

function parsePattern(pattern: string): Segment[] {
  if (!pattern.startsWith('/')) throw new HttpError('INVALID_OPTIONS', `route must start with /: ${pattern}`);
  const parts = normalise(pattern).split('/');
  return parts.map((part, i): Segment => {
    if (part === '*') {
      if (i !== parts.length - 1) throw new HttpError('INVALID_OPTIONS', `* must be last in ${pattern}`);
      return { rest: true };
    }
    if (part.startsWith(':')) {
      if (!NAME.test(part.slice(1)))
        throw new HttpError('INVALID_OPTIONS', `bad parameter ${part} in ${pattern}`);
      return { param: part.slice(1) };
    }
    return { literal: part };
  });
}

function samePattern(a: Segment[], b: Segment[]): boolean {
  return a.length === b.length && a.every((s, i) => JSON.stringify(s) === JSON.stringify(b[i]));
}

function match(segments: Segment[], parts: string[]): Record<string, string> | undefined | 'bad' {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if ('rest' in s) {
      const rest = decode(parts.slice(i).join('/'));
      if (rest === undefined) return 'bad';
      params['*'] = rest;
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if ('literal' in s) {
      if (part !== s.literal) return undefined;
    } else {
      if (part === '') return undefined;
      const value = decode(part);
      if (value === undefined) return 'bad';
      params[s.param] = value;
    }
  }
  return parts.length === segments.length ? params : undefined;
}

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
