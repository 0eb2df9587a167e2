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
}

/**
 * Every endpoint of the server's own making, with the permission it needs. The server mounts exactly
 * these (plus the admin API's table, mapped onto the same permissions), and its tests iterate this list:
 * what is not here is not served.
 */
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
