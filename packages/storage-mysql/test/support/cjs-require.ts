// vitest hands its resolve conditions (which include "import") to Node, so a CommonJS require() of a
// dual package resolves to the package's ESM entry. Drivers that require() such a package and use
// its default export (pg → pg-pool, mysql2 → long) then get a module namespace and fail. For tests,
// map a bare require() that landed on a package's "import" target back to its "require" target;
// outside vitest Node resolves these correctly by itself.
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join, resolve } from 'node:path';

type Resolve = (request: string, ...rest: unknown[]) => string;
const M = Module as unknown as { _resolveFilename: Resolve; __mdmkitCjsRequire?: true };

function target(entry: unknown, condition: 'import' | 'require'): string | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const t = (entry as Record<string, unknown>)[condition];
  if (typeof t === 'string') return t;
  if (typeof t === 'object' && t !== null) {
    const d = (t as Record<string, unknown>).default;
    return typeof d === 'string' ? d : undefined;
  }
  return undefined;
}

function requireTarget(request: string, resolved: string): string | undefined {
  let dir = dirname(resolved);
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        exports?: Record<string, unknown>;
      };
      if (pkg.name === request) {
        const root = pkg.exports?.['.'];
        const imp = target(root, 'import');
        const req = target(root, 'require');
        if (imp && req && resolve(dir, imp) === resolved) return resolve(dir, req);
        return undefined;
      }
    } catch {
      // no package.json at this level
    }
    dir = dirname(dir);
  }
  return undefined;
}

if (!M.__mdmkitCjsRequire) {
  M.__mdmkitCjsRequire = true;
  const original = M._resolveFilename;
  M._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    const resolved = original.call(this, request, ...rest);
    if (/^[a-z@][^:]*$/i.test(request) && !request.startsWith('node:')) {
      return requireTarget(request, resolved) ?? resolved;
    }
    return resolved;
  };
}
