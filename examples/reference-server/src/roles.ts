/** Roles of users and their API tokens (the ones Fleet's documents use). */
export const ROLES = ['admin', 'maintainer', 'observer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a route needs.
 * - `public`: anyone (health).
 * - `device`: an MDM device, identified by the MDM service chain (Mdm-Signature or client certificate).
 * - `enroll`: anyone who may fetch an enrollment profile (everyone, or `--enroll-token` holders).
 * - `read`: any user (observer and up).
 * - `write`: maintainers and admins (changes devices: commands, pushes).
 * - `admin`: admins only (users, tokens, push certificate, secrets).
 */
export type Permission = 'public' | 'device' | 'enroll' | 'read' | 'write' | 'admin';

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: ['read', 'write', 'admin'],
  maintainer: ['read', 'write'],
  observer: ['read'],
};

/**
 * Whether `role` may use a route needing `permission` (only for the token-guarded permissions).
 *
 * @example
 * ```ts
 * import { allows } from '@mdmkit/reference-server';
 * console.log(allows('observer', 'write')); // false
 * ```
 */
export function allows(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/**
 * Whether a value names a role.
 *
 * @example
 * ```ts
 * import { isRole } from '@mdmkit/reference-server';
 * console.log(isRole('maintainer'), isRole('root')); // true false
 * ```
 */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
