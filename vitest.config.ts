import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Every workspace folder with a test/ directory becomes one vitest project, so `pnpm test`
// runs the whole monorepo against TypeScript sources (the `mdmkit-source` export condition).
const roots = ['packages', 'tools', 'examples'];
const projects = roots.flatMap((root) =>
  existsSync(root)
    ? readdirSync(root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'test')))
        .map((d) => ({
          extends: true as const,
          test: {
            name: `${root}/${d.name}`,
            root: join(root, d.name),
            include: ['test/**/*.test.ts'],
          },
        }))
    : [],
);

export default defineConfig({
  // Only our own source condition is added to Vite's defaults. Vitest also hands these conditions to
  // Node for externalised dependencies, so listing `import` or `module` here would make a CommonJS
  // require() inside a driver (pg → pg-pool, mysql2 → long) land on a package's ESM entry.
  resolve: { conditions: ['mdmkit-source', 'module', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['mdmkit-source', 'node', 'development|production'] } },
  test: {
    projects,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
