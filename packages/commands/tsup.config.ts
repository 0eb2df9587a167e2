import { readdirSync } from 'node:fs';
import { defineConfig } from 'tsup';

// One entry per domain entry point (`@mdmkit/commands/device`, ...), as generated.
const domains = Object.fromEntries(
  readdirSync('src/generated/domains').map((f) => [
    `domains/${f.replace(/\.ts$/, '')}`,
    `src/generated/domains/${f}`,
  ]),
);

export default defineConfig({
  entry: { index: 'src/index.ts', schemas: 'src/schemas.ts', ...domains },
  format: ['esm'],
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
});
