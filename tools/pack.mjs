#!/usr/bin/env node
// Packs every publishable package into one folder (default `dist-packs/`), as `pnpm publish` would
// publish them: pnpm rewrites `workspace:*` ranges to the packages' real versions in each tarball.
// Usage: node tools/pack.mjs [DIR]   (build first: `pnpm run build`)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

const dest = resolve(process.argv[2] ?? 'dist-packs');
mkdirSync(dest, { recursive: true });
// Under `pnpm run`, npm_execpath is pnpm's own entry point; elsewhere pnpm must be on PATH.
const execPath = process.env.npm_execpath ?? '';
const pnpm = /pnpm\.c?js$/.test(execPath) ? [process.execPath, execPath] : ['pnpm'];
const r = spawnSync(
  pnpm[0],
  [...pnpm.slice(1), '-r', '--filter', './packages/**', 'pack', '--pack-destination', dest],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
if (r.status !== 0) process.exit(r.status ?? 1);
for (const file of readdirSync(dest)
  .filter((f) => f.endsWith('.tgz'))
  .sort())
  console.log(file);
