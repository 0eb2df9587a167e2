// vitest hands its resolve conditions (which include "import") to Node, so a CommonJS require() of a
// dual package picks the package's ESM entry. pg's CommonJS index requires pg-pool and subclasses
// its default export, which then arrives as a module namespace and fails to load. Tests map that one
// require back to pg-pool's CommonJS entry; outside vitest Node resolves it correctly by itself.
import Module from 'node:module';
import { dirname, join, sep } from 'node:path';

type Resolve = (request: string, ...rest: unknown[]) => string;
const M = Module as unknown as { _resolveFilename: Resolve; __mdmkitPgPool?: true };
if (!M.__mdmkitPgPool) {
  M.__mdmkitPgPool = true;
  const original = M._resolveFilename;
  M._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    const resolved = original.call(this, request, ...rest);
    if (request === 'pg-pool' && resolved.endsWith(`${sep}esm${sep}index.mjs`)) {
      return join(dirname(resolved), '..', 'index.js');
    }
    return resolved;
  };
}
