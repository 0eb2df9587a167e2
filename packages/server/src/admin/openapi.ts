import { z } from 'zod';
import { ADMIN_API_PREFIX, ADMIN_ROUTES, type AdminRoute } from './routes';
import { ErrorSchema } from './schemas';

/** Options of {@link adminOpenApi}. */
export interface AdminOpenApiOptions {
  /** Path prefix the API is mounted under. Default `/api/v1`. */
  prefix?: string;
  /** Public origin(s) of the API, for `servers`. */
  servers?: string[];
  title?: string;
  version?: string;
}

type Json = Record<string, unknown>;

/** `/enrollments/:id` → `/enrollments/{id}`. */
function openApiPath(prefix: string, path: string): string {
  return `${prefix}${path}`.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** One JSON Schema for a zod schema; named schemas (`.meta({ id })`) go to `components`. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output', components: Json): Json {
  const generated = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    reused: 'inline',
  });
  // Named schemas come back under $defs; in an OpenAPI document they live in components.
  const doc = JSON.parse(JSON.stringify(generated).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
  const defs = (doc.$defs ?? {}) as Record<string, Json>;
  delete doc.$defs;
  delete doc.$schema;
  for (const [name, def] of Object.entries(defs)) {
    delete def.$schema;
    delete def.id;
    components[name] = def;
  }
  const id = typeof doc.id === 'string' ? doc.id : undefined;
  if (id) {
    delete doc.id;
    components[id] = doc;
    return { $ref: `#/components/schemas/${id}` };
  }
  return doc;
}

function parametersOf(where: 'path' | 'query', schema: z.ZodType | undefined, components: Json): Json[] {
  if (!schema) return [];
  const s = schemaOf(schema, 'input', components);
  const props = (s.properties ?? {}) as Record<string, Json>;
  const required = new Set((s.required ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: p,
  }));
}

function operationOf(route: AdminRoute, components: Json): Json {
  const errors = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const op: Json = {
    operationId: route.id,
    summary: route.summary,
    tags: ['admin'],
    'x-mdmkit-permission': route.permission,
    security: [{ bearerAuth: [] }, { apiKey: [] }],
    parameters: [
      ...parametersOf('path', route.params, components),
      ...parametersOf('query', route.query, components),
    ],
    responses: {
      [String(route.status)]: {
        description: 'Success',
        content: { 'application/json': { schema: schemaOf(route.response, 'output', components) } },
      },
      '400': { description: 'The request does not match its schema', ...errors },
      '401': { description: 'Missing or wrong credential', ...errors },
      '403': {
        description: 'The caller lacks this route’s permission, or a page of another site made the request',
        ...errors,
      },
      ...(route.params ? { '404': { description: 'Not found', ...errors } } : {}),
      ...(route.conflict ? { '409': { description: 'The CommandUUID is already used', ...errors } } : {}),
      ...(route.body ? { '413': { description: 'The body is larger than the server takes' } } : {}),
      '500': { description: 'Internal error', ...errors },
    },
  };
  if (route.body) {
    op.requestBody = {
      required: true,
      content: { 'application/json': { schema: schemaOf(route.body, 'input', components) } },
    };
  }
  return op;
}

/**
 * The OpenAPI 3.1 document of the admin API, generated from the zod schemas that validate its
 * requests and describe its answers, so the two never drift apart.
 *
 * @example
 * ```ts
 * import { adminOpenApi } from '@mdmkit/server';
 * const doc = adminOpenApi({ servers: ['https://mdm.example.com'] });
 * console.log(Object.keys(doc.paths as object));
 * ```
 */
export function adminOpenApi(options: AdminOpenApiOptions = {}): Json {
  const prefix = options.prefix ?? ADMIN_API_PREFIX;
  const components: Json = {};
  schemaOf(ErrorSchema, 'output', components);
  const paths: Record<string, Json> = {};
  for (const route of ADMIN_ROUTES) {
    const p = openApiPath(prefix, route.path);
    paths[p] ??= {};
    (paths[p] as Json)[route.method.toLowerCase()] = operationOf(route, components);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'mdmkit admin API',
      version: options.version ?? '1.0.0',
      description:
        'Enqueue commands, push, inspect enrollments, queues and results, and manage the push certificate. ' +
        'Each operation names its required permission in x-mdmkit-permission.',
    },
    ...(options.servers ? { servers: options.servers.map((url) => ({ url })) } : {}),
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
  };
}
