import { ADMIN_API_PREFIX, ADMIN_ROUTES, type AdminPermission } from '@mdmkit/server';
import type { Permission } from './roles';

/** One entry of the route table: what it is, where, and what a caller needs. */
export interface RouteSpec {
  /** Stable name; the activity feed records changes under it. */
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Router pattern (`:param` segments). */
  readonly path: string;
  readonly permission: Permission;
  readonly summary: string;
  /** The handler writes its own activity event (secret reads: the vault records who read what, and why). */
  readonly recordsItself?: true;
}

/** The endpoints of the server's own making: devices, health, metrics, users, tokens, activity. */
export const SERVER_ROUTES = [
  {
    name: 'mdm.checkin',
    method: 'PUT',
    path: '/mdm/checkin',
    permission: 'device',
    summary: 'check-in messages (CheckInURL)',
  },
  {
    name: 'mdm.connect',
    method: 'PUT',
    path: '/mdm/connect',
    permission: 'device',
    summary: 'command reports (ServerURL)',
  },
  {
    name: 'scep.get',
    method: 'GET',
    path: '/scep',
    permission: 'device',
    summary: 'SCEP GetCACert, GetCACaps, PKIOperation',
  },
  { name: 'scep.post', method: 'POST', path: '/scep', permission: 'device', summary: 'SCEP PKIOperation' },
  {
    name: 'mdm.enroll',
    method: 'GET',
    path: '/mdm/enroll',
    permission: 'enroll',
    summary: 'a signed enrollment profile with a one-time challenge',
  },
  {
    name: 'health',
    method: 'GET',
    path: '/health',
    permission: 'public',
    summary: 'readiness: 200 when storage answers',
  },
  { name: 'metrics', method: 'GET', path: '/metrics', permission: 'read', summary: 'Prometheus metrics' },
  { name: 'me', method: 'GET', path: '/api/v1/me', permission: 'read', summary: 'the caller and their role' },
  {
    name: 'certificates',
    method: 'GET',
    path: '/api/v1/certificates',
    permission: 'read',
    summary: 'the SCEP CA, profile signing and FileVault escrow certificates (PEM)',
  },
  {
    name: 'activity.list',
    method: 'GET',
    path: '/api/v1/activity',
    permission: 'read',
    summary: 'the activity feed (every admin action and secret view)',
  },
  {
    name: 'users.list',
    method: 'GET',
    path: '/api/v1/users',
    permission: 'admin',
    summary: 'users and their roles',
  },
  {
    name: 'users.create',
    method: 'POST',
    path: '/api/v1/users',
    permission: 'admin',
    summary: 'create a user {name, role}; answers its first token once',
  },
  {
    name: 'users.delete',
    method: 'DELETE',
    path: '/api/v1/users/:name',
    permission: 'admin',
    summary: 'delete a user and their tokens',
  },
  {
    name: 'tokens.list',
    method: 'GET',
    path: '/api/v1/tokens',
    permission: 'admin',
    summary: 'API tokens (ids and owners, never the tokens)',
  },
  {
    name: 'tokens.create',
    method: 'POST',
    path: '/api/v1/users/:name/tokens',
    permission: 'admin',
    summary: 'a new token for a user, answered once',
  },
  {
    name: 'tokens.revoke',
    method: 'DELETE',
    path: '/api/v1/tokens/:id',
    permission: 'admin',
    summary: 'revoke a token by id',
  },
] as const satisfies readonly RouteSpec[];

/** Names of the server's own routes. */
export type ServerRouteName = (typeof SERVER_ROUTES)[number]['name'];

/**
 * NanoMDM's API on this server (HTTP basic auth, user `nanomdm`, an API token as the password) and the
 * enrollment operations of `@mdmkit/server`'s lifecycle.
 */
export const OPERATION_ROUTES = [
  {
    name: 'nanomdm.enqueue',
    method: 'PUT',
    path: '/v1/enqueue/:ids',
    permission: 'write',
    summary: 'NanoMDM: queue a raw command plist for comma-separated ids, then push',
  },
  {
    name: 'nanomdm.push',
    method: 'GET',
    path: '/v1/push/:ids',
    permission: 'write',
    summary: 'NanoMDM: push comma-separated ids',
  },
  {
    name: 'nanomdm.pushcert',
    method: 'PUT',
    path: '/v1/pushcert',
    permission: 'admin',
    summary: 'NanoMDM: store the APNs push certificate and its key (PEM, concatenated)',
  },
  {
    name: 'nanomdm.version',
    method: 'GET',
    path: '/version',
    permission: 'read',
    summary: 'NanoMDM: the server version',
  },
  {
    name: 'nanomdm.migration',
    method: 'PUT',
    path: '/migration',
    permission: 'admin',
    summary: 'NanoMDM: import an enrollment from its Authenticate and TokenUpdate check-ins',
  },
  {
    name: 'enrollments.block',
    method: 'POST',
    path: '/api/v1/enrollments/:id/block',
    permission: 'write',
    summary: 'block an enrollment: its next request is answered 401 (the device unenrolls)',
  },
  {
    name: 'enrollments.unblock',
    method: 'DELETE',
    path: '/api/v1/enrollments/:id/block',
    permission: 'write',
    summary: 'lift a block',
  },
  {
    name: 'enrollments.remove',
    method: 'POST',
    path: '/api/v1/enrollments/:id/remove',
    permission: 'write',
    summary: 'remove the MDM profile from the device',
  },
  {
    name: 'secrets.read',
    method: 'GET',
    path: '/api/v1/enrollments/:id/secrets/:kind',
    permission: 'admin',
    summary:
      'open an escrowed device secret (FileVault key, bypass code, bootstrap token, …); needs X-Mdmkit-Reason; recorded',
    recordsItself: true,
  },
  {
    name: 'enrollments.ddmStatus',
    method: 'GET',
    path: '/api/v1/enrollments/:id/ddm-status',
    permission: 'read',
    summary: 'the newest declarative-management status report',
  },
] as const satisfies readonly RouteSpec[];

/** Names of the NanoMDM and enrollment-operation routes. */
export type OperationRouteName = (typeof OPERATION_ROUTES)[number]['name'];

const FROM_ADMIN: Record<AdminPermission, Permission> = { read: 'read', write: 'write', secrets: 'admin' };

/** The typed JSON admin API of `@mdmkit/server`, as entries of this table (`secrets` needs `admin`). */
export const ADMIN_API_ROUTES: readonly RouteSpec[] = ADMIN_ROUTES.map((r) => ({
  name: `api.${r.id}`,
  method: r.method,
  path: `${ADMIN_API_PREFIX}${r.path}`,
  permission: FROM_ADMIN[r.permission],
  summary: r.summary,
}));

/**
 * The one route table: every endpoint the server answers, with the permission it needs. The server
 * mounts exactly these, and the tests iterate them.
 *
 * @example
 * ```ts
 * import { ROUTE_TABLE } from '@mdmkit/reference-server';
 * for (const r of ROUTE_TABLE) console.log(r.method, r.path, r.permission);
 * ```
 */
export const ROUTE_TABLE: readonly RouteSpec[] = [...SERVER_ROUTES, ...OPERATION_ROUTES, ...ADMIN_API_ROUTES];

/**
 * Maps an admin-API permission onto this server's.
 *
 * @example
 * ```ts
 * permissionOf('secrets'); // 'admin'
 * ```
 */
export function permissionOf(p: AdminPermission): Permission {
  return FROM_ADMIN[p];
}
