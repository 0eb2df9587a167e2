/**
 * The connection URL with any password replaced by `***`, for error messages and logs.
 *
 * @example
 * ```ts
 * redactUrl('postgres://app:s3cret@db.internal:5432/mdm'); // 'postgres://app:***@db.internal:5432/mdm'
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (/pass/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    // An unparsable URL may still hold a password; show only its scheme.
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    return scheme ? `${scheme}://(unparsable URL)` : '(unparsable URL)';
  }
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * True when `name` can be used as an unquoted SQL identifier (schema/database names).
 *
 * @example
 * ```ts
 * isSafeIdentifier('mdm_1'); // true
 * ```
 */
export function isSafeIdentifier(name: string): boolean {
  return identifier.test(name);
}
